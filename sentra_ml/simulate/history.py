"""A service's past: a learner that has watched the simulated baseline before the rollout."""

from __future__ import annotations

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge.normal import ServiceNormal, service_learner
from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.simulate.scenario import Scenario
from sentra_ml.simulate.simulator import Simulator
from sentra_ml.simulate.spec import default_spec

HISTORY_DT = 10.0  # one window per tick: history is cheap to make


def learned_history(scenario: Scenario, hours: float, seed: int) -> ServiceLearner:
    """The service learner after `hours` of the scenario's baseline, up to t = 0 (weight 0).

    The baseline learns exactly as during a rollout (`ServiceNormal`), so a fault already
    running before t = 0 (an incident under way) is in the history, as it would be live.
    """
    normal = ServiceNormal(default_spec(), service_learner(), seed=seed)
    sim = Simulator(scenario, seed)
    ticks = round(hours * 3600.0 / HISTORY_DT)
    for k in range(-ticks, 0):
        t = k * HISTORY_DT
        for sample in sim.tick(t, HISTORY_DT, 0.0):
            if sample.cohort is Cohort.BASELINE:
                normal.observe(sample)
        normal.close(t + HISTORY_DT)
    return normal.learner
