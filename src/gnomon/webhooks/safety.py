"""SSRF protection for webhook targets.

A webhook URL is chosen by a tenant but requested by the server, so it must not reach the
server's own network: targets resolving to private, loopback, link-local or otherwise non-public
addresses are refused unless ``GNOMON_WEBHOOK_ALLOW_HOSTS`` lists the host, the address or a
range containing it.

URLs are checked twice: when saved (literal addresses and ``localhost`` names, without a DNS
lookup in the request path, so that an unresolvable-today host such as the seed's
``yourapp.com`` can still be registered) and before every delivery, after resolving the name, so
that a name later pointed at an internal address is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from gnomon.errors import Issue

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_ALLOW_HINT = "use a public address, or list the host in GNOMON_WEBHOOK_ALLOW_HOSTS"


def is_public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class HostPolicy:
    """What ``GNOMON_WEBHOOK_ALLOW_HOSTS`` lets through besides public addresses."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, setting: str) -> HostPolicy:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in setting.replace(";", ",").split(","):
            item = raw.strip().lower().strip("[]")
            if not item:
                continue
            if "/" in item:
                networks.append(ipaddress.ip_network(item, strict=False))
            else:
                hosts.add(item)
        return cls(frozenset(hosts), tuple(networks))

    def address_allowed(self, address: IPAddress) -> bool:
        return (
            is_public(address)
            or str(address) in self.hosts
            or any(address in net for net in self.networks if net.version == address.version)
        )

    def host_listed(self, host: str) -> bool:
        return host.lower() in self.hosts


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def check_url(url: str, policy: HostPolicy, path: tuple[str | int, ...] = ("url",)) -> list[Issue]:
    """Problems with a webhook URL at save time."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return [Issue(f"not a valid URL: {exc}", path)]
    if parts.scheme not in {"http", "https"}:
        return [Issue("the URL must start with https:// or http://", path, code="invalid_url")]
    host = parts.hostname
    if not host:
        return [Issue("the URL has no host", path, code="invalid_url")]
    if parts.username is not None or parts.password is not None:
        return [
            Issue(
                "credentials in the URL are not allowed",
                path,
                code="invalid_url",
                hint="authenticate receivers with the webhook signature",
            )
        ]
    del port
    if policy.host_listed(host):
        return []
    literal = _literal(host)
    if (literal is not None and not policy.address_allowed(literal)) or _is_local_name(host):
        return [
            Issue(
                f"{host} is a private, loopback or link-local address",
                path,
                code="forbidden_target",
                hint=_ALLOW_HINT,
            )
        ]
    return []


class Resolver:
    """Resolves and vets a target host before delivery; caches answers briefly."""

    def __init__(self, policy: HostPolicy, *, ttl_s: float = 30.0) -> None:
        self.policy = policy
        self._ttl_s = ttl_s
        self._cache: dict[tuple[str, int], tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def refusal(self, url: str) -> str | None:
        """Why delivering to ``url`` is refused, or None when it may go out."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if self.policy.host_listed(host):
            return None
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (host.lower(), port)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        reason = self._check(host, port)
        with self._lock:
            self._cache[key] = (now + self._ttl_s, reason)
        return reason

    def _check(self, host: str, port: int) -> str | None:
        literal = _literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            if _is_local_name(host):
                return f"{host} is a loopback name ({_ALLOW_HINT})"
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                return f"cannot resolve {host}: {exc}"
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        for address in addresses:
            if not self.policy.address_allowed(address):
                return f"{host} resolves to non-public address {address} ({_ALLOW_HINT})"
        return None
