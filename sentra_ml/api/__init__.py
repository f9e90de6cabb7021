"""The verdict service: FastAPI app factory, live rollouts, routes and integrations."""
