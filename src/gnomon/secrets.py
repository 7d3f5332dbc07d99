"""Where the key that encrypts stored secrets comes from.

``GNOMON_SECRET_KEY`` when set (required in production, so that several processes and hosts
share it); otherwise a random key generated on first use into ``<data dir>/secret.key`` with mode
0600, so a development install encrypts from the start without any setup. Losing that file makes
the stored secrets (webhook signing secrets, connection passwords) unreadable.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gnomon.config import Settings
from gnomon.crypto import SecretBox, generate_secret_key
from gnomon.errors import ConfigurationError

KEY_FILE = "secret.key"


def _read_or_create_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting together must not both write (and then disagree on) a key.
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_secret_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    text = path.read_text().strip()
    if not text:
        # The other process has created the file but not written it yet.
        raise ConfigurationError(f"{path} is empty; delete it or set GNOMON_SECRET_KEY")
    return text


def load_secret_box(settings: Settings) -> SecretBox:
    """The SecretBox for encrypted fields, from the settings key or ``<data dir>/secret.key``."""
    if settings.secret_key:
        return SecretBox.from_settings_key(settings.secret_key)
    path = settings.data_dir / KEY_FILE
    try:
        return SecretBox(_read_or_create_key_file(path))
    except ValueError as exc:
        raise ConfigurationError(f"{path} does not hold a valid key: {exc}") from None
