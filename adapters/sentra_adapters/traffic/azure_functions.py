"""Azure Functions router: the share of a function app's requests sent to a deployment slot.

The cohorts are slots: the baseline is the production slot, the canary a staging slot. App
Service routes a share of the production host's requests to the slot by a ramp-up rule in the
production site's ``config/web`` (``experiments.rampUpRules``: name, actionHostName,
reroutePercentage). Other rules must take no traffic (else Conflict), and a rule that ramps by
itself (``changeStep``) is refused rather than fought. ``reroutePercentage`` is a double: Sentra
writes tenths of a percent.

PROMOTE first sends everything back to production, then swaps the slots (a long-running
``slotsswap``): the canary build then runs in production and takes all traffic, and the staging
slot holds the old build with no traffic. So after a promotion the weights read are 100 % to the
baseline cohort, which is the production slot (``promotion_swaps``). RESTORE sets the rule to 0.

The API has no ETag or If-Match for ``config/web``, so a write cannot be conditional: Sentra
patches the rule list alone, checks the answer, and reports a 409 (a swap or another operation
in progress) as Conflict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from azure.mgmt.web import WebSiteManagementClient

from sentra_adapters.azure import arm_client, await_operation, azure_call
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured
from sentra_adapters.options import cohort_names
from sentra_adapters.traffic.azure_container_apps import raw
from sentra_adapters.traffic.base import HeldWeightsRouter, Outcome
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
)
from sentra_ml.analysis.types.labels import Cohort

_SELF_RAMPING = ("changeStep", "changeIntervalInMinutes", "changeDecisionCallbackUrl")


class FunctionsSlotRouter(HeldWeightsRouter):
    """The share of function app `site` (in `resource_group`) routed to a deployment slot.

    `slots` maps the baseline to ``production`` and the canary to a slot name (``staging``). A
    `client` (``WebSiteManagementClient``) may be injected; otherwise one is made for `base_url`
    (default: Azure's public cloud) with `credential` (default: azure-identity's chain).
    """

    kind: ClassVar[str] = "azure_functions"
    resolution: ClassVar[float] = 0.1
    _scale: ClassVar[int] = 1000
    promotion_swaps: ClassVar[bool] = True  # PROMOTE moves the canary build into the baseline

    def __init__(
        self,
        *,
        subscription_id: str,
        resource_group: str,
        site: str,
        slots: Mapping[str, str],
        timeout: float = 10.0,
        operation_timeout: float = 600.0,
        poll_interval: float = 5.0,
        base_url: str | None = None,
        credential: Any = None,
        connection_verify: bool | str | None = None,
        client: Any = None,
    ) -> None:
        self.slots = cohort_names(self.kind, slots, "slots")
        if self.slots[Cohort.BASELINE] != "production":
            raise Misconfigured(self.kind, "slots: the baseline must be the 'production' slot")
        if self.slots[Cohort.CANARY] == "production":
            raise Misconfigured(self.kind, "slots: the canary must be a deployment slot")
        self.resource_group = resource_group
        self.site = site
        self.slot = self.slots[Cohort.CANARY]
        self.operation_timeout = operation_timeout
        self.poll_interval = poll_interval
        self.client = client or arm_client(
            WebSiteManagementClient,
            credential=credential,
            subscription_id=subscription_id,
            base_url=base_url,
            timeout=timeout,
            connection_verify=connection_verify,
        )

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Sets the slot's ramp-up rule to the canary's share (tenths of a percent)."""
        checked = check_weights(self.kind, weights)
        integer_weights(self.kind, checked, self._scale)  # refuses what is finer than 0.1 %
        self._route(round(checked[Cohort.CANARY], 1))

    def get_weights(self) -> Weights:
        """The shares the production site's routing rules hold now."""
        share = self._share(self._rules(self._config()), self._host())
        return {Cohort.BASELINE: round(100.0 - share, 6), Cohort.CANARY: share}

    def finalize(self, outcome: Outcome) -> None:
        """RESTORE: no traffic to the slot. PROMOTE: no traffic to the slot, then swap it into
        production, so that a failed swap leaves the baseline serving everything."""
        self._route(0.0)
        if outcome is Outcome.PROMOTE:
            what = f"swap {self._what} with production"
            poller = azure_call(
                self.kind,
                what,
                self.client.web_apps.begin_swap_slot_with_production,
                self.resource_group,
                self.site,
                {"targetSlot": self.slot, "preserveVnet": True},
                polling_interval=self.poll_interval,
            )
            await_operation(self.kind, what, poller, self.operation_timeout)

    @property
    def _what(self) -> str:
        return f"slot {self.resource_group}/{self.site}/{self.slot}"

    def _route(self, share: float) -> None:
        host = self._host()
        config = self._config()
        rules = self._rules(config)
        if self._share(rules, host) == share:
            return  # already held: no write
        ours = [r for r in rules if _same_host(r, host)]
        kept = [r for r in rules if not _same_host(r, host)]
        rule = {**(ours[0] if ours else {"name": self.slot}), "actionHostName": host,
                "reroutePercentage": share}  # fmt: skip
        patch = {"properties": {"experiments": {"rampUpRules": [*kept, rule]}}}
        answer = azure_call(
            self.kind,
            f"update config/web of {self.site}",
            self.client.web_apps.update_configuration,
            self.resource_group,
            self.site,
            patch,
            cls=raw,
        )
        if not isinstance(answer, dict) or self._share(self._rules(answer), host) != share:
            raise BadResponse(self.kind, f"{self._what}: the stored routing rule differs")

    def _config(self) -> dict[str, Any]:
        config = azure_call(
            self.kind,
            f"get config/web of {self.site}",
            self.client.web_apps.get_configuration,
            self.resource_group,
            self.site,
            cls=raw,
        )
        if not isinstance(config, dict) or not isinstance(config.get("properties"), dict):
            raise BadResponse(self.kind, f"get config/web of {self.site}: no properties")
        return config

    def _host(self) -> str:
        slot = azure_call(
            self.kind,
            f"get {self._what}",
            self.client.web_apps.get_slot,
            self.resource_group,
            self.site,
            self.slot,
            cls=raw,
        )
        host = (
            (slot.get("properties") or {}).get("defaultHostName")
            if isinstance(slot, dict)
            else None
        )
        if not isinstance(host, str) or not host:
            raise BadResponse(self.kind, f"get {self._what}: no defaultHostName")
        return host

    def _rules(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        rules = (config["properties"].get("experiments") or {}).get("rampUpRules") or []
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise BadResponse(self.kind, f"config/web of {self.site}: bad rampUpRules {rules!r}")
        return rules

    def _share(self, rules: list[dict[str, Any]], host: str) -> float:
        """The percent routed to the slot; Conflict when another rule routes traffic or a
        rule for the slot ramps by itself."""
        share = 0.0
        for rule in rules:
            value = rule.get("reroutePercentage") or 0
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadResponse(self.kind, f"{self.site}: bad reroutePercentage {value!r}")
            if not math.isfinite(value) or not 0 <= value <= 100:
                raise BadResponse(self.kind, f"{self.site}: bad reroutePercentage {value!r}")
            if not _same_host(rule, host):
                if value:
                    raise Conflict(
                        self.kind,
                        f"{self.site} routes {value:g} % to {rule.get('actionHostName')!r} by "
                        f"rule {rule.get('name')!r}, not only to slot {self.slot!r}",
                    )
                continue
            if any(rule.get(k) for k in _SELF_RAMPING):
                raise Conflict(
                    self.kind,
                    f"{self.site} rule {rule.get('name')!r} ramps by itself (changeStep); "
                    "Sentra will not fight it",
                )
            share += float(value)
        if share > 100:
            raise BadResponse(self.kind, f"{self.site}: rules route {share:g} % to the slot")
        return round(share, 6)


def _same_host(rule: Mapping[str, Any], host: str) -> bool:
    return str(rule.get("actionHostName") or "").lower() == host.lower()
