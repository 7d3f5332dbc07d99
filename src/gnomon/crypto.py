"""Secrets at rest: API keys (stored as hashes) and encrypted fields (connection passwords,
webhook signing secrets).

API keys look like ``gnm_k7q2m9xa_<43 characters>``: a prefix that secret scanners can match,
an 8-character key id that is stored in clear and used to find the row, and 32 random bytes.
Only the SHA-256 of the whole key is stored. A fast hash is right here, unlike for passwords:
the secret has 256 bits of entropy, so there is nothing to brute-force and nothing for a slow
KDF to protect, while every API request pays for the hash.

Encrypted fields use AES-256-GCM (authenticated: a changed byte is detected, never decrypted to
garbage) and carry a format version and a key id, ``v1:<key id>:<base64url(nonce|ciphertext)>``,
so that the key can be rotated: new values use the current key, old values still decrypt with
a previous key until they are re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gnomon.errors import ConfigurationError, GnomonError

__all__ = [
    "DecryptionError",
    "SecretBox",
    "generate_secret_key",
    "hash_api_key",
    "new_api_key",
    "parse_api_key",
    "verify_api_key",
]

# -- API keys ---------------------------------------------------------------------------------

KEY_ID_LENGTH = 8
# Lowercase letters and digits: the key id never contains "_" (the separator), survives
# case-insensitive handling, and 36**8 ≈ 2.8e12 ids make collisions rare (the store's unique
# index catches the rest; callers retry).
_KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_BYTES = 32
_API_KEY_RE = re.compile(r"^([a-z][a-z0-9]{0,15})_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$")


def new_api_key(prefix: str = "gnm") -> tuple[str, str, str]:
    """Make a new API key; returns ``(full_secret, key_id, hash)``.

    Show ``full_secret`` to the user once; store ``key_id`` (for lookup) and ``hash``.

    >>> secret, key_id, digest = new_api_key()
    >>> parse_api_key(secret) == key_id and verify_api_key(secret, digest)
    True
    """
    if re.fullmatch(r"[a-z][a-z0-9]{0,15}", prefix) is None:
        raise ValueError(f"API key prefix must be 1-16 lowercase letters or digits, got {prefix!r}")
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    body = base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES)).rstrip(b"=").decode()
    secret = f"{prefix}_{key_id}_{body}"
    return secret, key_id, hash_api_key(secret)


def hash_api_key(secret: str) -> str:
    """SHA-256 hex digest of the whole key (see the module docstring for why not a slow KDF)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_api_key(secret: str) -> str | None:
    """The key id of a well-formed key, else None (so junk never reaches the database)."""
    match = _API_KEY_RE.fullmatch(secret.strip())
    return match.group(2) if match else None


def verify_api_key(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(hash_api_key(secret.strip()), stored_hash)


# -- encrypted fields -------------------------------------------------------------------------

_VERSION = "v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_MIN_SETTINGS_KEY_CHARS = 16
_HKDF_SALT = b"gnomon"
_HKDF_INFO = b"gnomon secretbox v1 aes-256-gcm"


class DecryptionError(GnomonError):
    """A stored secret cannot be decrypted: tampered, truncated, or made with an unknown key."""

    code = "decryption_failed"


def generate_secret_key() -> str:
    """A new random 32-byte key, base64url without padding: what ``SecretBox(...)`` accepts."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).rstrip(b"=").decode()


_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")


def _b64decode(text: str) -> bytes:
    # Strict: the lenient stdlib decoder skips foreign characters, which would let a mangled
    # value reach AES-GCM (or a typo'd key be silently shortened) instead of failing clearly.
    if _B64URL_RE.fullmatch(text) is None:
        raise ValueError("not base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_bytes(material: bytes | str) -> bytes:
    if isinstance(material, str):
        try:
            material = _b64decode(material.strip())
        except (binascii.Error, ValueError):
            raise ValueError("key material must be base64url text of 32 bytes") from None
    if len(material) != _KEY_BYTES:
        raise ValueError(f"key material must be {_KEY_BYTES} bytes, got {len(material)}")
    return material


def _key_id(key: bytes) -> str:
    # An HMAC of a constant, not a hash of the key itself: an id to pick the right key, which
    # reveals nothing useful about the key.
    return hmac.new(key, b"gnomon key id", hashlib.sha256).hexdigest()[:8]


def _derive(secret_key: str) -> bytes:
    if len(secret_key) < _MIN_SETTINGS_KEY_CHARS:
        raise ConfigurationError(
            f"the secret key must be at least {_MIN_SETTINGS_KEY_CHARS} characters "
            "(generate one with gnomon.crypto.generate_secret_key())"
        )
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=_HKDF_SALT, info=_HKDF_INFO)
    return hkdf.derive(secret_key.encode())


class SecretBox:
    """Encrypts short secrets for storage; decrypts with the current or a previous key.

    ``context`` binds a value to where it is stored (say ``"connection:42:password"``): a
    ciphertext copied into another row then fails to decrypt instead of leaking there.
    """

    def __init__(self, key_material: bytes | str, *, previous: Sequence[bytes | str] = ()) -> None:
        current = _key_bytes(key_material)
        self._current_id = _key_id(current)
        self._aead: dict[str, AESGCM] = {}
        for key in [*(_key_bytes(k) for k in previous), current]:
            self._aead[_key_id(key)] = AESGCM(key)

    @classmethod
    def from_settings_key(cls, secret_key: str, *, previous: Sequence[str] = ()) -> SecretBox:
        """Derive the AES key with HKDF-SHA256 from a configured secret of any form."""
        return cls(_derive(secret_key), previous=[_derive(k) for k in previous])

    @property
    def key_id(self) -> str:
        """Id of the key new values are encrypted with."""
        return self._current_id

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        aad = self._aad(self._current_id, context)
        sealed = self._aead[self._current_id].encrypt(nonce, plaintext.encode(), aad)
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{_VERSION}:{self._current_id}:{body}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        parts = token.split(":")
        if len(parts) != 3 or not parts[0]:
            raise DecryptionError("stored secret is not in the v1:<key id>:<data> format")
        version, key_id, body = parts
        if version != _VERSION:
            raise DecryptionError(f"stored secret has unsupported format version {version!r}")
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptionError(
                f"stored secret was encrypted with key {key_id!r}, which is not configured"
            )
        try:
            raw = _b64decode(body)
        except (binascii.Error, ValueError):
            raise DecryptionError("stored secret is corrupted (bad encoding)") from None
        if len(raw) < _NONCE_BYTES + 16:
            raise DecryptionError("stored secret is corrupted (too short)")
        try:
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._aad(key_id, context))
        except InvalidTag:
            raise DecryptionError(
                "stored secret failed authentication (tampered, or the wrong context)"
            ) from None
        return plain.decode()

    def needs_rotation(self, token: str) -> bool:
        """Whether ``token`` was made with a key other than the current one."""
        parts = token.split(":")
        return len(parts) != 3 or parts[0] != _VERSION or parts[1] != self._current_id

    def reencrypt(self, token: str, *, context: str = "") -> str:
        """Decrypt with whichever key made ``token`` and encrypt again with the current key."""
        return self.encrypt(self.decrypt(token, context=context), context=context)

    @staticmethod
    def _aad(key_id: str, context: str) -> bytes:
        # The header is authenticated too, so a token cannot be relabelled with another
        # version or key id.
        return f"{_VERSION}:{key_id}:{context}".encode()
