"""Settings: every knob gnomon has, read from ``GNOMON_*`` environment variables.

Each field's ``description`` is the documentation; ``docs/settings.md`` lists every field and a
test fails when one is missing there, so a new setting cannot ship undocumented.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gnomon.errors import ConfigurationError

_RATE_RE = re.compile(r"^\s*\d+\s*/\s*(\d+\s*)?(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")


class Settings(BaseSettings):
    """gnomon's settings. Unknown ``GNOMON_*`` variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="GNOMON_", extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = Field(
        "development",
        description=(
            "Deployment kind. `production` refuses unsafe settings (see operations docs): "
            "a missing or short `SECRET_KEY`, a short `BOOTSTRAP_TOKEN` or `ADMIN_TOKEN`."
        ),
    )
    data_dir: Path = Field(
        Path(".gnomon"),
        description="Directory for the embedded store, the demo warehouse and generated secrets.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "Metadata store URL (SQLAlchemy). Default: SQLite file `gnomon.db` in the data dir. "
            "Production: `postgresql+psycopg://user:pass@host/db`."
        ),
    )
    secret_key: str | None = Field(
        None,
        description=(
            "Key material for encrypting stored secrets (connection passwords, webhook secrets). "
            "Default: generated once into `<data dir>/secret.key`. Required in production."
        ),
    )
    bootstrap_token: str | None = Field(
        None,
        description=(
            "On an empty store, the first organization's admin key is this value instead of a "
            "random one (for scripted setups). At least 32 characters in production."
        ),
    )
    bootstrap_org_name: str = Field(
        "Demo", description="Name of the organization created on first start."
    )
    admin_token: str | None = Field(
        None,
        description=(
            "Platform key for `/api/v1/organizations` (create, list, delete organizations). "
            "Unset: the platform API answers 401."
        ),
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL for the shared query cache and rate limits across processes.",
    )
    rate_limit: str | None = Field(
        "600/minute",
        description=(
            "Requests allowed per API key, as `N/period` (`600/minute`, `10/second`, "
            "`5000/hour`). Empty disables rate limiting."
        ),
    )
    duckdb_paths: str = Field(
        "",
        description=(
            "Directories (separated by `:` or `,`) inside which DuckDB connections may open "
            "files. The data dir is always allowed."
        ),
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted; larger bodies get 413.",
    )
    idempotency_ttl_s: int = Field(
        86_400, ge=60, description="How long an `Idempotency-Key` response is kept for replay."
    )
    log_level: str = Field("INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    log_json: bool = Field(True, description="Write logs as one JSON object per line.")
    host: str = Field("127.0.0.1", description="Address `gnomon serve` binds to.")
    port: int = Field(8080, ge=1, le=65535, description="Port `gnomon serve` listens on.")
    key_last_used_resolution_s: int = Field(
        60,
        ge=0,
        description=(
            "An API key's `last_used_at` is written at most once per this many seconds, so "
            "that reads do not turn into writes on every request."
        ),
    )

    webhook_allow_hosts: str = Field(
        "",
        description=(
            "Hosts, IP addresses or CIDR ranges (comma-separated) that webhook URLs may target "
            "although they are private, loopback or link-local, e.g. `127.0.0.1,10.0.0.0/8`. "
            "Everything else non-public is refused."
        ),
    )
    webhook_worker: bool = Field(
        True,
        description=(
            "`gnomon serve` runs a webhook delivery worker in-process. Set to false when "
            "`gnomon worker` processes deliver instead."
        ),
    )
    webhook_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Per-attempt timeout of a webhook delivery, in seconds."
    )
    webhook_poll_interval_s: float = Field(
        0.5,
        gt=0,
        le=60,
        description="How often an idle webhook worker looks for due deliveries, in seconds.",
    )
    webhook_concurrency: int = Field(
        16, ge=1, le=512, description="Deliveries one webhook worker sends at the same time."
    )
    webhook_disable_after_failures: int = Field(
        50,
        ge=1,
        description=(
            "A webhook is disabled (event `webhook.disabled`) after this many consecutive "
            "failed delivery attempts."
        ),
    )

    @field_validator("rate_limit")
    @classmethod
    def _check_rate(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not _RATE_RE.match(value):
            raise ValueError(f"rate limit {value!r} is not of the form N/period, e.g. 600/minute")
        return value.strip()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gnomon.db').resolve()}"

    @property
    def is_embedded_store(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def duckdb_allowed_dirs(self) -> tuple[Path, ...]:
        parts = [p for p in re.split(r"[:,]", self.duckdb_paths) if p.strip()]
        dirs = [Path(p).expanduser().resolve() for p in parts]
        return (self.data_dir.resolve(), *dirs)

    def check_safe(self) -> None:
        """Refuse settings that are unsafe for production, listing every problem."""
        if self.env != "production":
            return
        problems: list[str] = []
        if not self.secret_key or len(self.secret_key) < 32:
            problems.append("GNOMON_SECRET_KEY must be set to at least 32 characters")
        if self.bootstrap_token is not None and len(self.bootstrap_token) < 32:
            problems.append("GNOMON_BOOTSTRAP_TOKEN must be at least 32 characters")
        if self.admin_token is not None and len(self.admin_token) < 32:
            problems.append("GNOMON_ADMIN_TOKEN must be at least 32 characters")
        if problems:
            raise ConfigurationError(
                "unsafe production settings: " + "; ".join(problems),
                details=[{"message": p} for p in problems],
            )


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
