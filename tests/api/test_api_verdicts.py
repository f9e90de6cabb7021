"""POST /v1/verdicts: a stateless judgement of both cohorts' windows."""

from __future__ import annotations

from api_helpers import METRICS, Api, detail_text, lines  # type: ignore[import-not-found]


def _judge(api: Api, canary_failed: int, **extra: object) -> object:
    body = {"spec": {"metrics": METRICS}, "lines": lines(1000.0, 20, canary_failed), **extra}
    return api.post("/v1/verdicts", json=body)


def test_one_shot_verdicts(api: Api) -> None:
    bad = _judge(api, 9).json()  # type: ignore[attr-defined]
    assert bad["action"] == "rollback" and bad["evidence"][0]["status"] == "regression"
    good = _judge(api, 1).json()  # type: ignore[attr-defined]
    assert good["action"] in ("continue", "promote")


def test_one_shot_bad_input(api: Api) -> None:
    before = _judge(api, 1, now=10.0)
    assert before.status_code == 422 and "now" in detail_text(before)
    body = {
        "spec": {"metrics": METRICS},
        "lines": [{"ts": 1, "cohort": "canary", "metric": "x", "value": 1}],
    }
    unknown = api.post("/v1/verdicts", json=body)
    assert unknown.status_code == 422 and "lines.0" in detail_text(unknown)
    nospec = api.post("/v1/verdicts", json={"spec": {"metrics": []}, "lines": body["lines"]})
    assert nospec.status_code == 422
