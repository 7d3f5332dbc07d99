"""Webhooks: subscriptions, a transactional outbox, signed delivery with retries (issue 6)."""
