"""The service under uvicorn for the client tests, on both backends: embedded (SQLite, in-process
bus) and real (MariaDB, Redis)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
for folder in (HERE, HERE.parent / "adapters", HERE.parent / "api"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from api_helpers import settings_for  # noqa: E402
from live_service import LiveService, serving  # noqa: E402


@pytest.fixture(
    params=["embedded", pytest.param("mariadb+redis", marks=[pytest.mark.mysql, pytest.mark.redis])]
)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveService]:
    settings = settings_for(request.param, tmp_path, request).model_copy(
        update={"evaluation_interval_seconds": 1.0}
    )
    yield from serving(settings)
