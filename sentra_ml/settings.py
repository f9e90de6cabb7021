"""Settings from `SENTRA_*` environment variables; the defaults need no server at all."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Embedded defaults: SQLite, an in-process bus, a SQLite MLflow store under `data_dir`."""

    model_config = SettingsConfigDict(env_prefix="SENTRA_", extra="ignore")

    data_dir: Path = Path(".sentra")
    database_url: str | None = None
    redis_url: str | None = None
    mlflow_tracking_uri: str | None = None
    model_poll_seconds: float = Field(default=60.0, ge=0.0)  # registry polls; 0: none
    default_model_dir: Path = Path("models/default")  # used when MLflow cannot be reached
    evaluation_interval_seconds: float = Field(default=2.0, ge=1.0, le=5.0)
    lease_seconds: float = Field(default=10.0, ge=1.0, le=300.0)  # a dead controller's takeover
    service_learner: bool = True  # judge with each service's learned normal (pause / hold)
    auth_disabled: bool = False  # only for local use: every caller is an anonymous admin
    webhook_secret: str | None = None  # HMAC key that integration callers may sign with
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    # how long a finished rollout's series (the dashboard's charts) are kept
    series_retention_days: float = Field(default=30.0, ge=0.0, le=3650.0)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sentra.db'}"

    def resolved_mlflow_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    def model_registry_uri(self) -> str | None:
        """Where the judging loop reads published models: the configured MLflow, else the
        embedded store once `sentra train` created it; None: no registry."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        embedded = self.data_dir / "mlflow.db"
        return self.resolved_mlflow_uri() if embedded.is_file() else None

    def mlflow_artifact_root(self) -> str | None:
        """Where the embedded store keeps artifacts; a tracking server decides its own."""
        if self.mlflow_tracking_uri:
            return None
        return (self.data_dir / "mlartifacts").resolve().as_uri()


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once; tests clear the cache or pass their own."""
    return Settings()
