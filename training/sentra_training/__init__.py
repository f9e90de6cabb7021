"""Sentra offline training and evaluation of per-service models."""
