"""The controller under test beside the API (embedded or MariaDB + Redis), with the adapter
test servers (real NGINX and HAProxy) importable."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
for folder in (HERE, HERE.parent / "adapters", HERE.parent / "api"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from api_helpers import Api, settings_for, start  # noqa: E402


@pytest.fixture(
    params=["embedded", pytest.param("mariadb+redis", marks=[pytest.mark.mysql, pytest.mark.redis])]
)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    yield from start(settings_for(request.param, tmp_path, request))


@pytest.fixture
def embedded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    yield from start(settings_for("embedded", tmp_path, request))
