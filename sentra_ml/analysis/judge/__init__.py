"""The judge: per-metric evidence combined into a verdict."""
