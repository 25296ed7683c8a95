"""Which network addresses a user-supplied sheet URL may reach (the SSRF rules).

Sheet URLs come from users, so a URL must not become a way to read the service's own
network: cloud metadata (169.254.169.254), the database on loopback, the office LAN.
The rule is checked where it cannot be bypassed: when a TCP connection is opened, on
the address DNS actually returned, for the first request and for every redirect. A
hostname that resolves to any non-public address is refused as a whole (a DNS answer
mixing a public and a private address is a rebinding trick, not a sheet).

``allow_private`` (setting ``sheets.allow_private_networks``, env
``ODOOSYNC_SHEETS_ALLOW_PRIVATE=1``) lifts the rule for sheets served on the operator's
own network. It never opens link-local addresses or the clouds' metadata services
(:data:`ALWAYS_REFUSED`): those hand out the machine's credentials, and no sheet lives
there. Local files are a separate setting (``sheets.allow_local_files``, ``fetch.py``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore

from odoosync.exceptions import SheetRefused

__all__ = [
    "AddressGuard",
    "GuardedNetworkBackend",
    "address_problem",
    "always_refused",
    "ALLOW_PRIVATE_HINT",
    "ALWAYS_REFUSED",
]

ALLOW_PRIVATE_HINT = "set sheets.allow_private_networks (ODOOSYNC_SHEETS_ALLOW_PRIVATE=1) to allow it"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # link-local: AWS/GCP/Azure/OpenStack metadata at 169.254.169.254, ECS at .170.2
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
    )
)
"""Refused whatever the settings: metadata services and link-local addresses."""


def always_refused(ip: IPAddress) -> bool:
    """True for a metadata or link-local address (IPv4-mapped IPv6 included)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in ALWAYS_REFUSED)


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address, or None when it is one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


@dataclass(frozen=True)
class AddressGuard:
    """Resolves a host and refuses it unless every address is public (or private is allowed)."""

    allow_private: bool = False
    # Exact (host, port) pairs the operator trusts although they are private, e.g. one
    # intranet file server, without opening every private network.
    trusted: frozenset[tuple[str, int]] = frozenset()

    def check_literal_host(self, host: str, port: int) -> None:
        """Refuse a URL whose host is an IP literal in a forbidden range, before any I/O."""
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self._check(host, ip, trusted=(host, port) in self.trusted)

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``; ``SheetRefused`` if any is forbidden."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc.strerror}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        trusted = (host, port) in self.trusted
        for address in addresses:
            self._check(host, ipaddress.ip_address(address.split("%", 1)[0]), trusted=trusted)
        return addresses

    def _check(self, host: str, ip: IPAddress, *, trusted: bool) -> None:
        if always_refused(ip):
            shown = host if host == str(ip) else f"{host} ({ip})"
            raise SheetRefused(
                f"refusing to fetch from {shown}: it is a link-local or cloud metadata address, never allowed"
            )
        if self.allow_private or trusted:
            return
        problem = address_problem(ip)
        if problem is not None:
            shown = host if host == str(ip) else f"{host} ({ip})"
            raise SheetRefused(f"refusing to fetch from {shown}: it is {problem}; {ALLOW_PRIVATE_HINT}")


class GuardedNetworkBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the guard accepted."""

    def __init__(self, guard: AddressGuard):
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in self._guard.resolve(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error
