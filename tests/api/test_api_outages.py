"""When Redis or the database is away, every route that needs it answers 503 with a JSON body
naming the dependency and a Retry-After header; /healthz needs neither and stays 200.

Redis is a server of the test's own, on a free port, stopped halfway; the database is swapped
for a URL that cannot connect (a port with nothing listening, a file that cannot be opened)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from api_helpers import Api, lines, start  # type: ignore[import-not-found]
from redis import exceptions as redis_errors
from sqlalchemy import create_engine
from sqlalchemy import exc as sql_errors
from starlette.websockets import WebSocketDisconnect

from sentra_ml.api.outages import bus_outage, database_outage
from sentra_ml.settings import Settings
from sentra_ml.store.tokens import Role
from tests.conftest import unavailable
from tests.faults.servers import OwnRedis, free_port
from tests.faults.servers import own_redis as running_redis


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of this test's own (the shared one is never stopped)."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server", FileNotFoundError("not installed"))
    with running_redis(tmp_path) as server:
        yield server


def _assert_unavailable(response: Any, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["detail"].startswith(f"{dependency}: unavailable")


def _every_kind(api: Api, rid: str, name: str) -> dict[str, Any]:
    """One request of each kind: push, reads, create, integrations, admin."""
    return {
        "push": api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(time.time(), 1, 0)}),
        "verdict": api.get(f"/v1/rollouts/{rid}/verdict"),
        "read": api.get(f"/v1/rollouts/{rid}"),
        "list": api.get("/v1/rollouts"),
        "create": api.post(
            "/v1/rollouts",
            json={"service": "s", "baseline_version": "a", "canary_version": "b",
                  "metrics": [{"name": "errors", "kind": "ratio"}]},
        ),
        "action": api.post(f"/v1/rollouts/{rid}/actions", json={"action": "pause", "reason": "r"}),
        "argo": api.get(f"/v1/integrations/argo/test/{name}"),
        "flagger": api.post(
            "/v1/integrations/flagger/rollout", json={"name": name, "namespace": "test"}
        ),
        "tokens": api.get("/v1/tokens", role=Role.ADMIN),
    }  # fmt: skip


@pytest.mark.redis
@pytest.mark.timeout(120)
@pytest.mark.parametrize("database", ["sqlite", pytest.param("mariadb", marks=pytest.mark.mysql)])
def test_redis_down_is_a_503_on_every_route_that_needs_it(
    database: str,
    own_redis: OwnRedis,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    settings = Settings(data_dir=tmp_path / "sentra", redis_url=own_redis.url)
    if database == "mariadb":
        settings = settings.model_copy(
            update={"database_url": request.getfixturevalue("mysql_url")}
        )
    for api in start(settings):
        rid = api.create("podinfo", namespace="test")["id"]
        own_redis.stop()
        answers = _every_kind(api, rid, "podinfo")
        for kind in ("push", "verdict", "argo", "flagger"):
            _assert_unavailable(answers[kind], "bus (Redis)")
        for kind in ("read", "list", "tokens"):  # the database alone answers these
            assert answers[kind].status_code == 200, kind
        # a change is saved in the database first: it is done, whatever the bus says (a 503
        # would make a retry create a second rollout); readers see it once the cache expires
        assert answers["create"].status_code == 201 and answers["action"].status_code == 200
        assert api.get(f"/v1/rollouts/{rid}").json()["state"] == "paused"
        assert api.get("/healthz", role=None).json() == {"status": "ok"}
        ready = api.get("/readyz", role=None)
        assert ready.status_code == 503 and ready.json()["checks"]["bus"] is False


def test_the_database_down_is_a_503_on_every_route_that_needs_it(api: Api) -> None:
    rid = api.create("podinfo", namespace="test")["id"]
    svc = api.app.state.services
    dead = (
        f"mysql+pymysql://root@127.0.0.1:{free_port()}/sentra"
        if svc.engine.dialect.name == "mysql"
        else "sqlite:////proc/no-such-dir/sentra.db"
    )
    svc.sessions.configure(bind=create_engine(dead))
    svc.tokens.clear()  # every request now asks the database who is calling
    answers = _every_kind(api, rid, "podinfo")
    for kind, response in answers.items():
        if kind != "verdict":  # the verdict is read from the bus alone
            _assert_unavailable(response, "database")
    assert api.get("/healthz", role=None).status_code == 200
    token = api.secrets[Role.VIEWER]
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.client.websocket_connect(f"/v1/rollouts/{rid}/stream?token={token}") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1011 and "database" in str(closed.value.reason)


def test_only_outages_count_as_outages() -> None:
    def wrapped(orig: Exception, kind: type[sql_errors.DBAPIError]) -> Exception:
        return kind("SELECT 1", {}, orig)

    assert database_outage(
        wrapped(pymysql.err.OperationalError(2003, "refused"), sql_errors.OperationalError)
    )
    assert database_outage(
        wrapped(pymysql.err.OperationalError(1205, "lock wait"), sql_errors.OperationalError)
    )
    assert not database_outage(
        wrapped(
            pymysql.err.OperationalError(4025, "CONSTRAINT failed"), sql_errors.OperationalError
        )
    )
    assert not database_outage(
        wrapped(pymysql.err.IntegrityError(1062, "dup"), sql_errors.IntegrityError)
    )
    assert database_outage(sql_errors.TimeoutError("pool exhausted"))
    assert bus_outage(redis_errors.ConnectionError("refused"))
    assert bus_outage(redis_errors.ReadOnlyError("replica"))
    assert not bus_outage(redis_errors.ResponseError("WRONGTYPE"))
