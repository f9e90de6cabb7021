"""The ASGI entry point: `uvicorn --factory sentra_ml.api.main:build`."""

from __future__ import annotations

from fastapi import FastAPI

from sentra_ml.api.app import create_app
from sentra_ml.settings import get_settings


def build() -> FastAPI:
    """The service from the environment's settings (`SENTRA_*`)."""
    return create_app(get_settings())
