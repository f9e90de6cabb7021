"""Sentra's rollout controller: judges each rollout over time and acts on it through its traffic
router (see `controller.Controller` and `scheduler.Scheduler`)."""
