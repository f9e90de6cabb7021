# syntax=docker/dockerfile:1
# Sentra's image: `docker build -t sentra .`, then `docker run -p 8080:8080 sentra`.
# The builder makes the wheel and a virtualenv with the runtime dependencies only (pinned by
# requirements.lock, no dev extras); the runtime stage copies that virtualenv and nothing else.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN pip install hatchling==1.33.0
COPY pyproject.toml README.md requirements.lock ./
COPY sentra_ml ./sentra_ml
COPY controller/sentra_controller ./controller/sentra_controller
COPY adapters/sentra_adapters ./adapters/sentra_adapters
COPY training/sentra_training ./training/sentra_training
# the same build as tests/deploy/test_wheel.py: a wheel with no build isolation, no deps
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && python -m venv /opt/sentra \
    && /opt/sentra/bin/pip install -c requirements.lock /wheels/sentra_ml-*.whl

# compose's MLflow tracking server: Sentra's virtualenv plus the full `mlflow` package (the
# runtime needs only its client, mlflow-skinny); `--target mlflow-server`
FROM python:${PYTHON_VERSION}-slim-bookworm AS mlflow-server
COPY --from=builder /opt/sentra /opt/sentra
COPY --from=builder /src/requirements.lock /opt/requirements.lock
RUN /opt/sentra/bin/pip install --no-cache-dir -c /opt/requirements.lock mlflow \
    && useradd --system --uid 10001 --home-dir /var/lib/sentra --create-home sentra
ENV PATH=/opt/sentra/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /var/lib/sentra
USER 10001
ENTRYPOINT ["mlflow"]

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="sentra" \
      org.opencontainers.image.description="Safe software rollouts: telemetry into decisions" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 sentra \
    && useradd --system --uid 10001 --gid sentra --home-dir /var/lib/sentra --create-home \
       --shell /usr/sbin/nologin sentra
COPY --from=builder /opt/sentra /opt/sentra
# the model a service starts from when the MLflow registry cannot be reached (with its card)
COPY models/default /opt/sentra-models/default
ENV PATH=/opt/sentra/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SENTRA_DATA_DIR=/var/lib/sentra \
    SENTRA_DEFAULT_MODEL_DIR=/opt/sentra-models/default
WORKDIR /var/lib/sentra
USER 10001:10001
# 8080: the API (`serve`); 9108: a controller's /metrics (`controller --metrics-host 0.0.0.0`)
EXPOSE 8080 9108
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["sentra"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
