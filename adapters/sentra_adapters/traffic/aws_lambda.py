"""AWS Lambda router: an alias's weighted routing between two published versions.

The alias points at the baseline version and sends the canary's share through
``RoutingConfig.AdditionalVersionWeights``; 100 % canary makes the canary the alias's version.
Every write carries the ``RevisionId`` just read, so a change made by anyone else in between fails
with ``PreconditionFailedException``: Sentra re-reads (refusing an alias that now routes to a
foreign version) and retries a bounded number of times, and never overwrites blindly.

"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)
from botocore.parsers import ResponseParserError

from sentra_adapters.aws import aws_call, aws_client, aws_error, error_code
from sentra_adapters.errors import (
    BadResponse,
    Conflict,
    Misconfigured,
)
from sentra_adapters.options import check_attempts, distinct_cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
)
from sentra_ml.analysis.types.labels import Cohort


class LambdaRouter(HeldWeightsRouter):
    """Weights of two published versions behind alias `alias` of function `function`.

    `versions` maps each cohort to its version number. `attempts` bounds the writes tried when
    the alias changes under Sentra. A `client` (boto3 ``lambda``) may be injected; otherwise one
    is made for `region` and `endpoint_url` with the default credential chain.
    """

    kind: ClassVar[str] = "aws_lambda"
    resolution: ClassVar[float] = 0.01  # the API takes a double; 1/10,000 stays exact in JSON
    _scale: ClassVar[int] = 10000

    def __init__(
        self,
        *,
        function: str,
        alias: str,
        versions: Mapping[str, str],
        attempts: int = 3,
        region: str | None = None,
        endpoint_url: str | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        client: Any = None,
    ) -> None:
        self.function = function
        self.alias = alias
        self.versions = distinct_cohort_names(
            self.kind, {c: str(v) for c, v in versions.items()}, "versions"
        )
        if not all(v.isdigit() for v in self.versions.values()):
            # routing needs published versions: never $LATEST, never another alias
            numbers = {str(c): v for c, v in self.versions.items()}
            raise Misconfigured(self.kind, f"versions: need version numbers, got {numbers}")
        self.attempts = check_attempts(self.kind, attempts)
        self.client = client or aws_client(
            "lambda",
            region=region,
            endpoint_url=endpoint_url,
            timeout=timeout,
            max_attempts=max_attempts,
        )

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Writes the alias under its ``RevisionId``; re-reads and retries when it changed."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self._scale)
        version, routing = self._routing(ints)
        wanted = self._weights_of(version, routing)
        for _ in range(self.attempts):
            alias = self._read()
            if self._weights_of(*_routing_of(alias)) == wanted:
                return  # already applied: no write, no new revision
            try:
                answer = self.client.update_alias(
                    FunctionName=self.function,
                    Name=self.alias,
                    FunctionVersion=version,
                    RoutingConfig={"AdditionalVersionWeights": routing},
                    RevisionId=alias["RevisionId"],
                )
            except ClientError as e:
                if error_code(e) == "PreconditionFailedException":
                    continue  # someone else wrote in between: look again before writing
                raise aws_error(self.kind, f"update_alias {self._name}", e) from e
            except (BotoCoreError, ResponseParserError) as e:
                raise aws_error(self.kind, f"update_alias {self._name}", e) from e
            if self._weights_of(*_routing_of(answer)) != wanted:
                raise BadResponse(self.kind, f"update_alias {self._name} answered {answer!r}")
            return
        raise Conflict(
            self.kind, f"alias {self._name} changed under Sentra on each of {self.attempts} tries"
        )

    def get_weights(self) -> Weights:
        """The weights the alias holds now."""
        return percent(self.kind, self._weights_of(*_routing_of(self._read())))

    @property
    def _name(self) -> str:
        return f"{self.function}:{self.alias}"

    def _read(self) -> dict[str, Any]:
        alias: dict[str, Any] = aws_call(
            self.kind,
            f"get_alias {self._name}",
            self.client.get_alias,
            FunctionName=self.function,
            Name=self.alias,
        )
        if not isinstance(alias.get("RevisionId"), str):
            raise BadResponse(self.kind, f"get_alias {self._name}: no RevisionId in {alias!r}")
        return alias

    def _routing(self, ints: Mapping[Cohort, int]) -> tuple[str, dict[str, float]]:
        """The alias's version and additional weights for integer weights `ints`."""
        total = sum(ints.values())
        if ints[Cohort.CANARY] == total:
            return self.versions[Cohort.CANARY], {}
        if ints[Cohort.CANARY] == 0:
            return self.versions[Cohort.BASELINE], {}
        share = round(ints[Cohort.CANARY] / total, 4)
        return self.versions[Cohort.BASELINE], {self.versions[Cohort.CANARY]: share}

    def _weights_of(self, version: str, routing: Mapping[str, float]) -> dict[Cohort, float]:
        """Fractions per cohort; Conflict when the alias routes to a version Sentra does not own."""
        by_version = {v: c for c, v in self.versions.items()}
        foreign = sorted({version, *routing} - set(by_version))
        if foreign:
            raise Conflict(
                self.kind,
                f"alias {self._name} routes to version(s) {foreign}, not only the baseline "
                f"{self.versions[Cohort.BASELINE]} and canary {self.versions[Cohort.CANARY]}",
            )
        try:
            extra = {by_version[v]: float(w) for v, w in routing.items()}
        except (TypeError, ValueError) as e:
            raise BadResponse(self.kind, f"alias {self._name}: bad weights {routing!r}") from e
        fractions = dict.fromkeys(self.versions, 0.0)
        fractions.update(extra)
        fractions[by_version[version]] = 1.0 - sum(extra.values())
        if not all(0.0 <= w <= 1.0 for w in fractions.values()):
            raise BadResponse(self.kind, f"alias {self._name}: weights {routing!r} exceed 1")
        return {c: round(w, 6) for c, w in fractions.items()}


def _routing_of(alias: Mapping[str, Any]) -> tuple[str, dict[str, float]]:
    """The version and additional version weights of a get/update_alias answer."""
    routing = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return str(alias.get("FunctionVersion")), dict(routing)
