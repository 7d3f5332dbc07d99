"""A real `gnomon serve` process on loopback, for tests that need a live server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

GNOMON = str(Path(sys.executable).with_name("gnomon"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def first_key(self) -> str | None:
        match = re.search(r"^\s{4}(\S+)\s*$", self.log(), re.MULTILINE)
        return match.group(1) if match else None


@contextmanager
def live_server(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "serve.log"
    full_env = {
        **os.environ,
        "GNOMON_LOG_JSON": "false",
        "GNOMON_RATE_LIMIT": "",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                GNOMON,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", process=proc, log_path=log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gnomon serve exited early:\n{server.log()}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gnomon serve did not start:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
