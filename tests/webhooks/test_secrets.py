"""Where the encryption key of stored secrets comes from (gnomon.secrets)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gnomon.config import Settings
from gnomon.errors import ConfigurationError
from gnomon.secrets import load_secret_box


def test_generates_a_private_key_file_once(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path / "d")
    box = load_secret_box(settings)
    key_file = tmp_path / "d" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = box.encrypt("hunter2", context="c")
    again = load_secret_box(settings)
    assert again.decrypt(token, context="c") == "hunter2"
    assert key_file.read_text().strip() not in token


def test_settings_key_wins_over_the_file(tmp_path: Path) -> None:
    with_key = Settings(env="test", data_dir=tmp_path, secret_key="s" * 40)
    token = load_secret_box(with_key).encrypt("x")
    assert not (tmp_path / "secret.key").exists()
    assert load_secret_box(with_key).decrypt(token) == "x"


def test_a_corrupt_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("not-a-key\n")
    with pytest.raises(ConfigurationError):
        load_secret_box(Settings(env="test", data_dir=tmp_path))
