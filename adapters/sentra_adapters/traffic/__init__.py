"""Traffic routers: shift a service's requests between the baseline and the canary."""
