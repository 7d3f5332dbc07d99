"""API keys and encrypted secrets."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import pytest

from gnomon.crypto import (
    DecryptionError,
    SecretBox,
    generate_secret_key,
    hash_api_key,
    new_api_key,
    parse_api_key,
    verify_api_key,
)
from gnomon.errors import ConfigurationError, GnomonError

# -- API keys ---------------------------------------------------------------------------------


def test_new_api_key_shape() -> None:
    secret, key_id, digest = new_api_key()
    assert re.fullmatch(r"gnm_[a-z0-9]{8}_[A-Za-z0-9_-]{43}", secret)
    assert secret.split("_", 2)[1] == key_id
    body = secret.split("_", 2)[2]
    assert len(base64.urlsafe_b64decode(body + "=")) == 32
    assert digest == hashlib.sha256(secret.encode()).hexdigest()


def test_new_api_keys_are_unique() -> None:
    keys = [new_api_key() for _ in range(200)]
    assert len({k[0] for k in keys}) == 200
    assert len({k[1] for k in keys}) == 200


def test_custom_prefix() -> None:
    secret, key_id, _ = new_api_key("gnmorg")
    assert secret.startswith("gnmorg_")
    assert parse_api_key(secret) == key_id


@pytest.mark.parametrize("prefix", ["", "Gnm", "gn_m", "1gnm", "x" * 17])
def test_bad_prefix_is_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        new_api_key(prefix)


def test_parse_returns_key_id_for_well_formed_keys() -> None:
    # Many keys, so bodies containing "_" and "-" are exercised too.
    for _ in range(100):
        secret, key_id, _ = new_api_key()
        assert parse_api_key(secret) == key_id
        assert parse_api_key(f"  {secret}\n") == key_id


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "gnm",
        "Bearer gnm_abcdefgh_" + "a" * 43,
        "gnm_abcdefg_" + "a" * 43,  # key id too short
        "gnm_ABCDEFGH_" + "a" * 43,  # key id upper case
        "gnm_abcdefgh_" + "a" * 42,  # body too short
        "gnm_abcdefgh_" + "a" * 44,  # body too long
        "gnm_abcdefgh_" + "a" * 42 + "=",
        "gnm_abcdefgh_" + "a" * 42 + "+",
    ],
)
def test_parse_rejects_malformed(junk: str) -> None:
    assert parse_api_key(junk) is None


def test_verify_accepts_only_the_exact_key() -> None:
    secret, _, digest = new_api_key()
    assert verify_api_key(secret, digest)
    assert hash_api_key(secret) == digest
    other, _, _ = new_api_key()
    assert not verify_api_key(other, digest)
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert not verify_api_key(tampered, digest)


# -- SecretBox --------------------------------------------------------------------------------


def test_round_trip_and_format() -> None:
    box = SecretBox(generate_secret_key())
    token = box.encrypt("s3cr3t pässword")
    assert token.startswith(f"v1:{box.key_id}:")
    assert "s3cr3t" not in token
    assert box.decrypt(token) == "s3cr3t pässword"


def test_same_plaintext_encrypts_differently() -> None:
    box = SecretBox(generate_secret_key())
    assert box.encrypt("x") != box.encrypt("x")


def test_empty_plaintext_round_trips() -> None:
    box = SecretBox(generate_secret_key())
    assert box.decrypt(box.encrypt("")) == ""


def test_accepts_raw_bytes_and_rejects_wrong_sizes() -> None:
    key = b"k" * 32
    assert SecretBox(key).decrypt(SecretBox(key).encrypt("a")) == "a"
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox("c2hvcnQ")
    with pytest.raises(ValueError, match="base64url"):
        SecretBox("not base64 at all!!")


def test_tampered_ciphertext_is_a_gnomon_error() -> None:
    box = SecretBox(generate_secret_key())
    token = box.encrypt("secret")
    head, body = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 0x01
    forged = head + ":" + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError, match="failed authentication") as info:
        box.decrypt(forged)
    assert isinstance(info.value, GnomonError)
    assert info.value.code == "decryption_failed"


@pytest.mark.parametrize(
    ("mangle", "fragment"),
    [
        (lambda t: "garbage", "format"),
        (lambda t: t.replace("v1:", "v2:", 1), "unsupported format version 'v2'"),
        (lambda t: "v1:deadbeef:" + t.split(":")[2], "not configured"),
        (lambda t: t[:-40], "too short"),
        (lambda t: t + "!!", "bad encoding"),
        (lambda t: t[:-2] + "+/", "bad encoding"),
    ],
)
def test_malformed_tokens_are_rejected(mangle: Callable[[str], str], fragment: str) -> None:
    box = SecretBox(generate_secret_key())
    token = box.encrypt("secret")
    with pytest.raises(DecryptionError, match=fragment):
        box.decrypt(mangle(token))


def test_wrong_key_cannot_decrypt() -> None:
    token = SecretBox(generate_secret_key()).encrypt("secret")
    with pytest.raises(DecryptionError):
        SecretBox(generate_secret_key()).decrypt(token)


def test_context_binds_the_value_to_its_place() -> None:
    box = SecretBox(generate_secret_key())
    token = box.encrypt("pw", context="connection:1:password")
    assert box.decrypt(token, context="connection:1:password") == "pw"
    with pytest.raises(DecryptionError, match="wrong context"):
        box.decrypt(token, context="connection:2:password")


def test_from_settings_key_is_deterministic() -> None:
    first = SecretBox.from_settings_key("a configured secret key value")
    second = SecretBox.from_settings_key("a configured secret key value")
    other = SecretBox.from_settings_key("another configured secret value")
    token = first.encrypt("pw")
    assert second.decrypt(token) == "pw"
    assert first.key_id == second.key_id != other.key_id
    with pytest.raises(DecryptionError):
        other.decrypt(token)


def test_from_settings_key_refuses_short_secrets() -> None:
    with pytest.raises(ConfigurationError, match="at least 16"):
        SecretBox.from_settings_key("short")


def test_key_rotation() -> None:
    old_key, new_key = generate_secret_key(), generate_secret_key()
    old_token = SecretBox(old_key).encrypt("pw", context="c")
    rotated = SecretBox(new_key, previous=[old_key])
    assert rotated.needs_rotation(old_token)
    assert rotated.decrypt(old_token, context="c") == "pw"
    fresh = rotated.reencrypt(old_token, context="c")
    assert not rotated.needs_rotation(fresh)
    assert SecretBox(new_key).decrypt(fresh, context="c") == "pw"
    with pytest.raises(DecryptionError, match="not configured"):
        SecretBox(new_key).decrypt(old_token, context="c")


def test_settings_key_rotation() -> None:
    old = "the old configured secret key"
    token = SecretBox.from_settings_key(old).encrypt("pw")
    box = SecretBox.from_settings_key("the new configured secret key", previous=[old])
    assert box.decrypt(token) == "pw"


def test_generate_secret_key_is_random_32_bytes() -> None:
    first, second = generate_secret_key(), generate_secret_key()
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
