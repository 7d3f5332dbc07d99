"""Standard Webhooks signatures (https://www.standardwebhooks.com).

``webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">``,
space-separated when several secrets are valid (during a rotation's overlap), which receivers
accept if any one verifies.

Secrets of the form ``whsec_<base64>`` (what gnomon generates) sign with the decoded bytes, as
the spec says; any other secret a user supplies (the seed's ``process.env.WEBHOOK_SECRET``) signs
with its UTF-8 bytes, so a receiver passes ``secret.encode()`` to its verifier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from gnomon.errors import Issue

PREFIX = "whsec_"
GENERATED_BYTES = 24
_B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def generate_secret() -> str:
    """A new signing secret, ``whsec_`` + base64 of 24 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(GENERATED_BYTES)).decode()


def key_bytes(secret: str) -> bytes:
    """The HMAC key a secret stands for (see the module docstring)."""
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX) :])
    return secret.encode()


def check_secret(secret: str, path: tuple[str | int, ...]) -> list[Issue]:
    """Problems with a user-supplied secret: too weak, or a malformed ``whsec_`` value."""
    if secret.startswith(PREFIX):
        body = secret[len(PREFIX) :]
        try:
            raw = base64.b64decode(body, validate=True) if _B64.match(body) else b""
        except binascii.Error:
            raw = b""
        if not 24 <= len(raw) <= 64:
            return [
                Issue(
                    "a whsec_ secret must be base64 of 24 to 64 bytes",
                    path,
                    hint="omit `secret` to have one generated",
                )
            ]
        return []
    if len(secret) < 16:
        return [
            Issue(
                "the secret must be at least 16 characters",
                path,
                code="too_short",
                hint="omit `secret` to have one generated",
            )
        ]
    return []


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """One ``v1,<signature>`` entry."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: Sequence[str], message_id: str, timestamp: int, body: str
) -> str:
    """The ``webhook-signature`` value: one signature per secret currently valid."""
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_in_use)


def headers(
    secrets_in_use: Sequence[str], message_id: str, timestamp: int, body: str
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use, message_id, timestamp, body),
    }
