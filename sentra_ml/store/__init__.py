"""Storage: SQLAlchemy models and migrations (the audit), and the bus (Redis or in-process)."""
