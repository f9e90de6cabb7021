"""The real loop: Sentra judging a canary behind a real load balancer, fed by Prometheus."""
