"""Addresses another machine can dial: the unspecified listen address expanded, as kubo does.

A node listening on `/ip4/0.0.0.0/tcp/4001` is reachable at every IPv4 address of every
interface, but `0.0.0.0` itself is nobody's address: printed by `secondmectl id` or announced
by identify it is useless. `dialable` replaces each unspecified address with one address per
interface address of its family, loopback first (as kubo's `ipfs id` lists them), and leaves
concrete addresses alone. IPv6 link-local addresses are left out: they need a zone to be dialled.
The interfaces are read with ifaddr (getifaddrs), cached briefly, since identify asks per peer.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ifaddr
import multiaddr

INTERFACES_CACHE_SECONDS = 5.0
UNSPECIFIED = {"ip4": "0.0.0.0", "ip6": "::"}


@dataclass(frozen=True)
class InterfaceAddress:
    interface: str
    ip: str  # without a zone


def local_interface_addresses() -> list[InterfaceAddress]:
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            found.append(InterfaceAddress(adapter.nice_name or adapter.name, text))
    return found


def _usable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def interface_ips(interfaces: Sequence[InterfaceAddress], family: str) -> list[str]:
    """The dialable addresses of `family` ("ip4" or "ip6"), loopback first, each once."""
    version = 4 if family == "ip4" else 6
    loopback: list[str] = []
    others: list[str] = []
    for entry in interfaces:
        try:
            ip = ipaddress.ip_address(entry.ip)
        except ValueError:
            continue
        if ip.version != version or not _usable(ip):
            continue
        bucket = loopback if ip.is_loopback else others
        if str(ip) not in bucket:
            bucket.append(str(ip))
    return loopback + others


def dialable(
    addresses: Sequence[multiaddr.Multiaddr], interfaces: Sequence[InterfaceAddress]
) -> list[multiaddr.Multiaddr]:
    """`addresses` with each unspecified one replaced by the interface addresses of its family."""
    expanded: list[multiaddr.Multiaddr] = []
    for address in addresses:
        parts = str(address).split("/")
        family, host = (parts[1], parts[2]) if len(parts) > 2 else ("", "")
        if UNSPECIFIED.get(family) != host:
            candidates = [address]
        else:
            rest = "/".join(parts[3:])
            candidates = [multiaddr.Multiaddr(f"/{family}/{ip}/{rest}") for ip in interface_ips(interfaces, family)]
        for candidate in candidates:
            if candidate not in expanded:
                expanded.append(candidate)
    return expanded


def is_unspecified(address: str) -> bool:
    """True for `/ip4/0.0.0.0/...` and `/ip6/::/...`: an address nobody can dial."""
    parts = address.split("/")
    return len(parts) > 2 and UNSPECIFIED.get(parts[1]) == parts[2]


class CachedInterfaces:
    """`local_interface_addresses`, re-read at most every few seconds (thread-safe)."""

    def __init__(
        self,
        read: Callable[[], list[InterfaceAddress]] = local_interface_addresses,
        max_age: float = INTERFACES_CACHE_SECONDS,
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._lock = threading.Lock()
        self._value: list[InterfaceAddress] = []
        self._stamp = -max_age

    def __call__(self) -> list[InterfaceAddress]:
        with self._lock:
            now = time.monotonic()
            if now - self._stamp >= self._max_age:
                self._value = self._read()
                self._stamp = now
            return self._value
