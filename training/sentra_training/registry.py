"""Training runs and model versions in MLflow: log a run, register it as `sentra-<service>`,
move aliases, list and compare versions."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sentra_ml.store.model_bundle import write_bundle
from sentra_ml.store.model_registry import (
    BUNDLE_PATH,
    RegistryUnavailable,
    model_name,
    registry_client,
)
from sentra_training.fit import TrainedModel


@dataclass(frozen=True)
class VersionRow:
    """One registered version with its run's metrics."""

    version: int
    aliases: list[str]
    run_id: str
    created: int  # ms since the epoch
    metrics: dict[str, float]
    params: dict[str, str]


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
                )
            )
    except Exception as e:
        raise _fail(uri, e) from None
    if not rows:
        raise LookupError(f"{name}: no registered version (train one with `sentra train`)")
    return sorted(rows, key=lambda r: -r.version)
