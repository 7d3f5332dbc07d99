"""Replay of POST responses under an ``Idempotency-Key``."""
