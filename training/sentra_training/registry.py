"""Training runs and model versions in MLflow: log a run, register it as `sentra-<service>`,
move aliases, list and compare versions, record evaluations and the rollouts a run covered."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentra_ml.store.model_bundle import BundleError, ServiceModel, write_bundle
from sentra_ml.store.model_registry import (
    BUNDLE_PATH,
    Published,
    RegistryUnavailable,
    download,
    model_name,
    registry_client,
)
from sentra_training.fit import TrainedModel
from sentra_training.rollout_links import RolloutRef

ROLLOUTS_TAG = "sentra.rollouts"  # ids of the rollouts the history covered, comma-separated
_TAG_LIMIT = 5000  # MLflow keeps tag values up to 8,000 characters; the artifact has them all


@dataclass(frozen=True)
class VersionRow:
    """One registered version with its run's metrics."""

    version: int
    aliases: list[str]
    run_id: str
    created: int  # ms since the epoch
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)


def _fail(uri: str, e: Exception) -> RegistryUnavailable:
    message = getattr(e, "message", None) or str(e)
    return RegistryUnavailable(f"MLflow at {uri}: {e.__class__.__name__}: {message}")


def log_training(
    uri: str, trained: TrainedModel, plots: list[Path], artifact_root: str | None
) -> tuple[str, int]:
    """Log params, metrics, plots and the bundle as a run; register it. (run id, version)."""
    from mlflow.exceptions import MlflowException

    service = trained.model.service
    name = model_name(service)
    try:
        client = registry_client(uri)
        experiment = client.get_experiment_by_name(name)
        experiment_id = (
            experiment.experiment_id
            if experiment is not None
            else client.create_experiment(
                name, artifact_location=artifact_root and f"{artifact_root}/{name}"
            )
        )
        run = client.create_run(experiment_id, tags={"sentra.service": service})
        run_id = run.info.run_id
        for key, value in sorted(trained.params.items()):
            client.log_param(run_id, key, value)
        for key, value in sorted(trained.metrics.items()):
            client.log_metric(run_id, key, value)
        with tempfile.TemporaryDirectory(prefix="sentra-bundle-") as folder:
            write_bundle(trained.model, Path(folder))
            client.log_artifacts(run_id, folder, BUNDLE_PATH)
        for plot in plots:
            client.log_artifact(run_id, str(plot), "plots")
        client.set_terminated(run_id)
        try:
            client.create_registered_model(name, description=f"Sentra's model of {service}")
        except MlflowException as e:
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        version = client.create_model_version(
            name,
            f"{run.info.artifact_uri}/{BUNDLE_PATH}",
            run_id=run_id,
            tags={"sentra.card": json.dumps(trained.model.card["metrics"])},
        )
    except RegistryUnavailable:
        raise
    except Exception as e:
        raise _fail(uri, e) from None
    return run_id, int(version.version)


def set_alias(uri: str, service: str, version: int, alias: str) -> int | None:
    """Point `alias` at `version`; the version it pointed to before, if any."""
    from mlflow.exceptions import MlflowException

    name = model_name(service)
    client = registry_client(uri)
    try:
        client.get_model_version(name, str(version))
    except MlflowException as e:
        if e.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise LookupError(f"{name}: no version {version}") from None
        raise _fail(uri, e) from None
    except Exception as e:
        raise _fail(uri, e) from None
    try:
        before: int | None = int(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        before = None
    try:
        client.set_registered_model_alias(name, alias, str(version))
    except Exception as e:
        raise _fail(uri, e) from None
    return before


def list_versions(uri: str, service: str) -> list[VersionRow]:
    """Every version of `sentra-<service>`, newest first; LookupError if none is registered."""
    name = model_name(service)
    try:
        client = registry_client(uri)
        versions = client.search_model_versions(f"name = '{name}'")
        aliases: dict[str, list[str]] = {}
        if versions:  # search results leave aliases out: the registered model has them
            for alias, version in client.get_registered_model(name).aliases.items():
                aliases.setdefault(str(version), []).append(alias)
        rows = []
        for v in versions:
            if not v.run_id:
                continue  # registered by hand, outside `sentra train`
            run = client.get_run(v.run_id)
            rows.append(
                VersionRow(
                    int(v.version),
                    sorted(aliases.get(str(v.version), [])),
                    v.run_id,
                    int(v.creation_timestamp),
                    dict(run.data.metrics),
                    dict(run.data.params),
                    dict(run.data.tags),
                )
            )
    except Exception as e:
        raise _fail(uri, e) from None
    if not rows:
        raise LookupError(f"{name}: no registered version (train one with `sentra train`)")
    return sorted(rows, key=lambda r: -r.version)


def resolve_version(
    uri: str, service: str, version: int | None = None, alias: str | None = None
) -> tuple[Published, str]:
    """The version (or the one `alias` points to) and its run id; LookupError if there is no
    such version or alias."""
    from mlflow.exceptions import MlflowException

    name = model_name(service)
    try:
        client = registry_client(uri)
        if version is not None:
            found = client.get_model_version(name, str(version))
        else:
            found = client.get_model_version_by_alias(name, alias or "production")
    except MlflowException as e:
        if e.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            what = f"version {version}" if version is not None else f"alias {alias!r}"
            raise LookupError(f"{name}: no {what}") from None
        raise _fail(uri, e) from None
    except Exception as e:
        raise _fail(uri, e) from None
    if not found.run_id:
        raise LookupError(f"{name}: version {found.version} has no training run")
    published = Published(service, alias or "", str(found.version), str(found.source))
    return published, str(found.run_id)


def fetch_model(uri: str, published: Published) -> ServiceModel:
    """The bundle of a registered version (RegistryUnavailable if it cannot be read)."""
    try:
        return download(uri, published)
    except BundleError as e:
        raise RegistryUnavailable(f"{uri}: {published.source}: {e}") from None


def record_evaluation(
    uri: str, run_id: str, metrics: dict[str, float], report: dict[str, Any], plots: list[Path]
) -> None:
    """Log an evaluation into a training run: its metrics, `evaluation/report.json` and plots
    (a later evaluation of the same run logs newer values of the same metrics)."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    try:
        client = registry_client(uri)
        batch = [Metric(k, float(v), now, 0) for k, v in sorted(metrics.items())]
        client.log_batch(run_id, metrics=batch)
        client.log_dict(run_id, report, "evaluation/report.json")
        for plot in plots:
            client.log_artifact(run_id, str(plot), "evaluation")
        client.set_tag(
            run_id, "sentra.evaluated", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        )
    except Exception as e:
        raise _fail(uri, e) from None


def record_rollouts(
    uri: str, run_id: str, rollouts: list[RolloutRef] | None, start: float, end: float, note: str
) -> None:
    """Tag a training run with the rollouts its history covered (ids, outcomes, time range) and
    log them all as `rollouts.json`; `rollouts` None: the audit database could not say (`note`)."""
    try:
        client = registry_client(uri)
        client.set_tag(run_id, "sentra.history.start", f"{start:.0f}")
        client.set_tag(run_id, "sentra.history.end", f"{end:.0f}")
        if rollouts is None:
            client.set_tag(run_id, "sentra.rollouts.error", note[:_TAG_LIMIT])
            return
        ids = ",".join(r.id for r in rollouts)
        if len(ids) > _TAG_LIMIT:
            ids = ids[: ids.rfind(",", 0, _TAG_LIMIT)] + ",..."
        client.set_tag(run_id, ROLLOUTS_TAG, ids)
        client.log_param(run_id, "rollouts", len(rollouts))
        outcomes: dict[str, int] = {}
        for r in rollouts:
            outcomes[r.state] = outcomes.get(r.state, 0) + 1
        for state, count in sorted(outcomes.items()):
            client.set_tag(run_id, f"sentra.rollouts.{state}", str(count))
        document = {"source": note, "start": start, "end": end}
        client.log_dict(
            run_id, {**document, "rollouts": [r.as_json() for r in rollouts]}, "rollouts.json"
        )
    except Exception as e:
        raise _fail(uri, e) from None


def read_rollouts(uri: str, run_id: str) -> list[dict[str, Any]] | None:
    """The rollouts a training run recorded (`rollouts.json`); None if it recorded none."""
    from mlflow.artifacts import download_artifacts

    try:
        run = registry_client(uri).get_run(run_id)
        if ROLLOUTS_TAG not in run.data.tags:
            return None
        with tempfile.TemporaryDirectory(prefix="sentra-rollouts-") as folder:
            path = download_artifacts(
                artifact_uri=f"{run.info.artifact_uri}/rollouts.json",
                dst_path=folder,
                tracking_uri=uri,
            )
            document = json.loads(Path(path).read_text())
    except Exception as e:
        raise _fail(uri, e) from None
    return list(document.get("rollouts", []))
