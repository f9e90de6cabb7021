"""The detection benchmark: Sentra's judge against the incumbents' rules on simulated rollouts."""
