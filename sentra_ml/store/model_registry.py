"""Reading published models from the MLflow registry: `sentra-<service>` at an alias.

Only the MLflow client is needed (mlflow-skinny); its import is deferred to first use so that the
service starts without it when no registry is used.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sentra_ml.store.model_bundle import ServiceModel, read_bundle

if TYPE_CHECKING:
    from mlflow import MlflowClient

PRODUCTION = "production"
BUNDLE_PATH = "model"  # the bundle's folder among a training run's artifacts


class RegistryUnavailable(RuntimeError):
    """The registry could not be asked, or refused; the message names the URI and the cause."""


def model_name(service: str) -> str:
    return f"sentra-{service}"


def registry_client(uri: str) -> MlflowClient:
    # MLflow's HTTP client retries an unreachable server for minutes by default; the loader
    # polls again on its own timer, and a CLI user wants the error now
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@dataclass(frozen=True)
class Published:
    """The version an alias points to."""

    service: str
    alias: str
    version: str
    source: str  # the bundle folder's artifact URI


def published(uri: str, service: str, alias: str = PRODUCTION) -> Published | None:
    """The version `alias` points to, None if the model or alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        found = registry_client(uri).get_model_version_by_alias(model_name(service), alias)
    except MlflowException as e:
        if e.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise RegistryUnavailable(f"{uri}: {e.error_code}: {e.message}") from None
    except Exception as e:  # connection errors come as requests' or urllib3's own types
        raise RegistryUnavailable(f"{uri}: {e.__class__.__name__}: {e}") from None
    return Published(service, alias, str(found.version), str(found.source))


def download(uri: str, target: Published) -> ServiceModel:
    """The bundle of a published version; RegistryUnavailable if it cannot be fetched."""
    from mlflow.artifacts import download_artifacts

    with tempfile.TemporaryDirectory(prefix="sentra-model-") as folder:
        try:
            path = download_artifacts(artifact_uri=target.source, dst_path=folder, tracking_uri=uri)
        except Exception as e:
            raise RegistryUnavailable(f"{uri}: {target.source}: {e}") from None
        return read_bundle(Path(path), version=f"{model_name(target.service)}/{target.version}")
