"""Live `gnomon serve` processes for SDK and CLI tests, plus one that can be killed and revived.

`tests.live.live_server` picks a new port on every start; the crash test needs the *same* port
and data directory after a `kill -9`, so :class:`RestartableServer` keeps both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.live import GNOMON, free_port

BOOTSTRAP_TOKEN = "sdk-test-bootstrap-token-0123456789abcdef"
ADMIN_TOKEN = "sdk-test-platform-admin-token-0123456789abc"

BASE_ENV = {
    "GNOMON_LOG_JSON": "false",
    "GNOMON_RATE_LIMIT": "",
    "GNOMON_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
    "GNOMON_ADMIN_TOKEN": ADMIN_TOKEN,
    "GNOMON_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
}


@dataclass
class RestartableServer:
    data_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.data_dir.glob("serve-*.log"))
        )

    def start(self, *, wait: bool = True) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log_path = self.data_dir / f"serve-{self.starts}.log"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    GNOMON,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **BASE_ENV, **self.env},
            )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 120  # generous: CI machines can be busy
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gnomon serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gnomon serve did not start:\n{self.log()}")
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL: no shutdown handlers, open connections just die."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def build_demo(data_dir: Path) -> None:
    """A small demo warehouse, so that the bootstrapped demo organization's queries have data."""
    subprocess.run(
        [GNOMON, "demo", "--data-dir", str(data_dir), "--scale", "0.02"],
        check=True,
        capture_output=True,
    )


@contextmanager
def running_server(
    data_dir: Path, env: Mapping[str, str] | None = None
) -> Iterator[RestartableServer]:
    server = RestartableServer(data_dir, dict(env or {}))
    server.start()
    try:
        yield server
    finally:
        server.stop()
