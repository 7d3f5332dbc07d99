"""API keys: organization keys (act as org admin) and personal keys (act as their user)."""
