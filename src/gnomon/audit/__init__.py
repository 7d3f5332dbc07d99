"""The audit log: every event, hash-chained per organization."""
