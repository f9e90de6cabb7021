"""The service under test, on both backends: embedded (SQLite, in-process bus) and real
(MariaDB, Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import Api, settings_for, start  # type: ignore[import-not-found]


@pytest.fixture(
    params=["embedded", pytest.param("mariadb+redis", marks=[pytest.mark.mysql, pytest.mark.redis])]
)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    yield from start(settings_for(request.param, tmp_path, request))
