"""The dashboard in headless chromium against the service under uvicorn, judged by its
in-process controller: the fleet and rollout views update live, viewers get no buttons,
an operator's abort rolls the rollout back, and the page logs no console error."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Service  # type: ignore[import-not-found]

from sentra_ml.store.tokens import Role

# the README's screenshots are refreshed on request (SENTRA_SCREENSHOTS=1), so that a test run
# leaves the checkout as it found it
SHOTS = (
    Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "dashboard"
    if os.environ.get("SENTRA_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "sentra-dashboard-screenshots"
)
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.timeout(180)


class Page:
    """A browser tab logged in with one role's token, collecting console errors."""

    def __init__(self, browser: Any, service: Service, role: Role, viewport: dict[str, int]):
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{service.base}/ui/")
        self.page.fill("#token", service.secrets[role])
        self.page.click("form#login button[type=submit]")
        self.page.wait_for_selector("#fleet")
        self.page.wait_for_selector("#live[data-state=live]")

    def points(self, chart: str) -> int:
        value = self.page.get_attribute(f'[data-chart="{chart}"]', "data-points")
        return int(value or 0)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any, service: Service) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    errors = [e for tab in opened for e in tab.errors]
    for tab in opened:
        tab.close()
    assert errors == [], f"console errors: {errors}"


def open_tab(tabs: list[Page], browser: Any, service: Service, role: Role, size: str) -> Page:
    tab = Page(browser, service, role, LAPTOP if size == "laptop" else PHONE)
    tabs.append(tab)
    return tab


def test_rollouts_appear_and_charts_grow_live(browser: Any, service: Service, tabs: list[Page]):
    first = service.create("checkout")
    tab = open_tab(tabs, browser, service, Role.OPERATOR, "laptop")
    page = tab.page
    page.wait_for_selector(f'tr[data-rollout="{first["id"]}"]')
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    second = service.create("payments")
    page.wait_for_selector(f'tr[data-rollout="{second["id"]}"]', timeout=10_000)
    page.select_option("#filter-state", "running")
    page.fill("#filter-service", "payments")
    page.wait_for_function("document.querySelectorAll('#fleet tbody tr').length === 1")

    page.click(f'tr[data-rollout="{second["id"]}"] a')
    page.wait_for_selector('[data-chart="weight"][data-points]', state="attached")
    seen = []
    for _ in range(8):
        service.push(second["id"], canary_failed=1)
        time.sleep(1.0)
        seen.append(tab.points("values:errors"))
    assert seen[-1] >= seen[0] + 4, f"the chart did not grow live: {seen}"
    assert tab.points("weight") >= 4 and tab.points("effect:latency_ms") >= 4
    assert page.evaluate("window.__sameDocument") is True
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rollout-laptop.png"), full_page=True)


def test_a_faulty_canary_rolls_back_on_screen_with_its_reasons(
    browser: Any, service: Service, tabs: list[Page]
):
    rollout = service.create("search")
    tab = open_tab(tabs, browser, service, Role.VIEWER, "laptop")
    page = tab.page
    page.goto(f"{service.base}/ui/#/rollouts/{rollout['id']}")
    page.wait_for_selector("#rollout-head [data-state=running]")
    page.evaluate("window.__sameDocument = true")
    for _ in range(25):
        if service.call("GET", f"/v1/rollouts/{rollout['id']}", Role.VIEWER)["state"] != "running":
            break
        service.push(rollout["id"], canary_failed=30, ended_ok=True)
        time.sleep(1.0)
    page.wait_for_selector("#rollout-head [data-state=rolled_back]", timeout=10_000)
    decision = page.locator('#timeline li.decision[data-action="rollback"]').first
    decision.wait_for(timeout=10_000)
    assert "errors" in decision.inner_text()  # its reasons name the regressed metric
    assert page.locator("#reasons li").count() >= 1
    assert page.evaluate("window.__sameDocument") is True
    # a viewer sees no buttons
    assert page.locator("[data-action]").filter(has=page.locator("button")).count() == 0
    assert page.locator("button[data-action]").count() == 0
    page.screenshot(path=str(SHOTS / "rollback-laptop.png"), full_page=True)
    phone = open_tab(tabs, browser, service, Role.VIEWER, "phone").page
    phone.screenshot(path=str(SHOTS / "fleet-phone.png"), full_page=True)
    phone.goto(f"{service.base}/ui/#/rollouts/{rollout['id']}")
    phone.wait_for_selector('#timeline li.decision[data-action="rollback"]')
    phone.screenshot(path=str(SHOTS / "rollout-phone.png"), full_page=True)


def test_a_viewer_sees_no_buttons_and_an_operator_aborts(
    browser: Any, service: Service, tabs: list[Page]
):
    rollout = service.create("orders")
    service.push(rollout["id"], canary_failed=1)
    viewer = open_tab(tabs, browser, service, Role.VIEWER, "laptop").page
    viewer.goto(f"{service.base}/ui/#/rollouts/{rollout['id']}")
    viewer.wait_for_selector("#rollout-head [data-state=running]")
    assert viewer.locator("button[data-action]").count() == 0

    operator_tab = open_tab(tabs, browser, service, Role.OPERATOR, "laptop")
    operator_tab.page.screenshot(path=str(SHOTS / "fleet-laptop.png"), full_page=True)
    operator = operator_tab.page
    operator.goto(f"{service.base}/ui/#/rollouts/{rollout['id']}")
    operator.wait_for_selector("button[data-action=abort]")
    operator.fill("#reason", "p99 looks wrong on the canary")
    operator.click("button[data-action=abort]")
    operator.wait_for_selector("#rollout-head [data-state=aborted]", timeout=10_000)
    assert operator.locator("button[data-action]").count() == 0  # nothing left to do
    viewer.wait_for_selector("#rollout-head [data-state=aborted]", timeout=10_000)  # live
    events = service.call("GET", f"/v1/rollouts/{rollout['id']}/events", Role.VIEWER)["items"]
    aborted = [e for e in events if "p99 looks wrong" in e["reason"]]
    assert aborted and aborted[0]["actor"] == f"token:{service.names[Role.OPERATOR]}"
    state = service.call("GET", f"/v1/rollouts/{rollout['id']}", Role.VIEWER)["state"]
    assert state == "aborted"
