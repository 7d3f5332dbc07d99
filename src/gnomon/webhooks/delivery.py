"""One delivery attempt, and what its outcome does to the delivery and the webhook.

- 2xx: delivered. Redirects are not followed (a 3xx is a failure), and only the first
  ``RESPONSE_READ_CAP`` bytes of a response are read, so a receiver cannot make the worker
  fetch another URL or buffer an endless body.
- 410 Gone: the receiver says the endpoint is gone for good: the webhook is disabled at once.
- anything else (or a timeout, a refused connection, an SSRF refusal): retried per the
  webhook's retry policy with ±20 % jitter, but never sooner than the receiver's
  ``Retry-After``. After ``GNOMON_WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts in a row the
  webhook is disabled; both disablings emit ``webhook.disabled``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from sqlalchemy.orm import Session

from gnomon import events
from gnomon.crypto import SecretBox
from gnomon.principal import Principal
from gnomon.util import as_utc
from gnomon.webhooks import repository_deliveries as outbox_repo
from gnomon.webhooks import signing
from gnomon.webhooks.safety import Resolver
from gnomon.webhooks.schemas import RetryPolicy
from gnomon.webhooks.service import secret_context

RESPONSE_READ_CAP = 64 * 1024
EXCERPT_CHARS = 1000
MAX_DELAY_S = 86_400.0
JITTER = 0.2

Outcome = Literal["success", "failure", "gone", "refused"]


@dataclass(frozen=True)
class AttemptResult:
    started_at: datetime
    outcome: Outcome
    latency_ms: float
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


_BACKOFF: dict[str, Callable[[float, int], float]] = {
    "exponential": lambda initial, n: initial * 2 ** (n - 1),
    "linear": lambda initial, n: initial * n,
    "fixed": lambda initial, n: initial,
}


def retry_delay(policy: RetryPolicy, retry_number: int, rng: random.Random) -> float:
    """Seconds before retry ``retry_number`` (1 = the first retry), jittered, capped."""
    base = min(_BACKOFF[policy.backoff_strategy](policy.initial_delay, retry_number), MAX_DELAY_S)
    return min(base * rng.uniform(1 - JITTER, 1 + JITTER), MAX_DELAY_S)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_DELAY_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = as_utc(when) or now
    return min(max((when - now).total_seconds(), 0.0), MAX_DELAY_S)


def signing_secrets(row: dict[str, Any], box: SecretBox, now: datetime) -> list[str]:
    """The current secret, plus the previous one while a rotation's overlap lasts."""
    context = secret_context(row["webhook_id"])
    out = [box.decrypt(row["secret_enc"], context=context)]
    expires = row["previous_secret_expires_at"]
    if row["previous_secret_enc"] and expires is not None and expires > now:
        out.append(box.decrypt(row["previous_secret_enc"], context=context))
    return out


def attempt(
    client: httpx.Client,
    resolver: Resolver,
    row: dict[str, Any],
    secrets_in_use: list[str],
    started_at: datetime,
) -> AttemptResult:
    """POST the signed payload once; never raises for receiver-side problems."""
    clock = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - clock) * 1000, 3)

    refusal = resolver.refusal(row["url"])
    if refusal is not None:
        return AttemptResult(started_at, "refused", elapsed(), error=refusal)
    body: str = row["payload"]
    headers = signing.headers(secrets_in_use, row["message_id"], int(time.time()), body)
    headers["content-type"] = "application/json"
    try:
        with client.stream("POST", row["url"], content=body.encode(), headers=headers) as resp:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= RESPONSE_READ_CAP:
                    break
            status = resp.status_code
            retry_after = parse_retry_after(resp.headers.get("retry-after"), started_at)
    except httpx.TimeoutException:
        return AttemptResult(started_at, "failure", elapsed(), error="timed out")
    except httpx.HTTPError as exc:
        return AttemptResult(started_at, "failure", elapsed(), error=f"{type(exc).__name__}: {exc}")
    excerpt = b"".join(chunks)[:RESPONSE_READ_CAP].decode("utf-8", "replace")[:EXCERPT_CHARS]
    latency = elapsed()
    if 200 <= status < 300:
        return AttemptResult(started_at, "success", latency, status, excerpt)
    if status == 410:
        return AttemptResult(started_at, "gone", latency, status, excerpt, "410 Gone")
    error = "redirects are not followed" if 300 <= status < 400 else f"HTTP {status}"
    return AttemptResult(started_at, "failure", latency, status, excerpt, error, retry_after)


def _disable(
    session: Session, row: dict[str, Any], reason: str, failures: int, result: AttemptResult
) -> None:
    if not outbox_repo.disable(
        session, row["org_id"], row["webhook_id"], reason, result.started_at
    ):
        return
    events.emit(
        session,
        Principal.system(row["org_id"], label="webhook worker"),
        events.Event(
            "webhook.disabled",
            "webhook",
            row["webhook_id"],
            {
                "webhook": {
                    "id": row["webhook_id"],
                    "name": row["webhook_name"],
                    "url": row["url"],
                },
                "reason": reason,
                "consecutive_failures": failures,
                "last_status_code": result.status_code,
            },
        ),
    )


def _outcome_values(
    row: dict[str, Any], result: AttemptResult, now: datetime, rng: random.Random
) -> dict[str, Any]:
    """The delivery's columns after this attempt: done, or pending again with a retry time."""
    number = int(row["attempts"]) + 1
    policy = RetryPolicy(**(row["retry_policy"] or {}))
    values: dict[str, Any] = {
        "attempts": number,
        "locked_by": None,
        "locked_until": None,
        "last_status_code": result.status_code,
        "last_latency_ms": result.latency_ms,
        "last_response": result.excerpt,
        "last_error": result.error,
    }
    success = result.outcome == "success"
    if success or result.outcome == "gone" or number > policy.max_retries:
        values.update(status="succeeded" if success else "failed", completed_at=now)
    else:
        delay = max(retry_delay(policy, number, rng), result.retry_after_s or 0.0)
        values.update(status="pending", next_attempt_at=now + timedelta(seconds=delay))
    return values


def record_batch(
    session: Session,
    batch: Sequence[tuple[dict[str, Any], AttemptResult]],
    token: str,
    *,
    now: datetime,
    disable_after: int,
    rng: random.Random,
) -> list[bool]:
    """Store a batch's outcomes; per row, False when its claim was lost to another worker.

    The same effect as recording the rows one by one in order, in a fixed number of
    statements: one executemany for the deliveries, one for the attempt log, and one counter
    read and write per webhook. The failure counter is folded in Python in batch order, so a
    success still resets it and a webhook is disabled at the same attempt as before.
    """
    held = outbox_repo.still_held(session, [int(row["id"]) for row, _ in batch], token)
    # Every row draws its jitter, held or not, so a seeded run stays reproducible.
    all_values = [_outcome_values(row, result, now, rng) for row, result in batch]
    kept = [(row, result) for row, result in batch if int(row["id"]) in held]
    outcomes: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for (row, result), values in zip(batch, all_values, strict=True):
        if int(row["id"]) not in held:
            continue
        outcomes.append({"org_id": row["org_id"], "pk": int(row["id"]), **values})
        attempts.append(
            {
                "org_id": row["org_id"],
                "delivery_pk": int(row["id"]),
                "attempt": values["attempts"],
                "started_at": result.started_at,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
                "response_excerpt": result.excerpt,
                "error": result.error,
                "outcome": result.outcome,
            }
        )
    outbox_repo.complete_many(session, token, outcomes)
    outbox_repo.insert_attempts(session, attempts)
    keys = list(dict.fromkeys((row["org_id"], row["webhook_id"]) for row, _ in kept))
    counts = outbox_repo.failure_counts(session, keys)
    start = dict(counts)
    for row, result in kept:
        key = (row["org_id"], row["webhook_id"])
        if result.outcome == "success":
            counts[key] = 0
            continue
        counts[key] += 1
        failures = counts[key]
        if result.outcome == "gone":
            _disable(session, row, "the receiver answered 410 Gone", failures, result)
        elif failures >= disable_after:
            _disable(session, row, f"{failures} consecutive failed attempts", failures, result)
    for (org_id, webhook_id), value in counts.items():
        if value != start[(org_id, webhook_id)]:
            outbox_repo.set_failures(session, org_id, webhook_id, value)
    return [int(row["id"]) in held for row, _ in batch]


def record(
    session: Session,
    row: dict[str, Any],
    token: str,
    result: AttemptResult,
    *,
    now: datetime,
    disable_after: int,
    rng: random.Random,
) -> bool:
    """Store one attempt's outcome; False when the claim was lost to another worker meanwhile."""
    done = record_batch(
        session, [(row, result)], token, now=now, disable_after=disable_after, rng=rng
    )
    return done[0]
