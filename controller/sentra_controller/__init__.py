"""Sentra rollout controller: drives canaries through traffic adapters (see issue 4 onward)."""
