"""mDNS discovery that also connects, on the interfaces this node listens on and no others.

py-libp2p 0.8.1's mDNS binds every interface (`Zeroconf()` with the default interface choice)
and only adds what it finds to the peerstore. This module speaks the same libp2p mDNS format
(service `_p2p._udp.local.`, one `dnsaddr=/ip4/.../tcp/.../p2p/ID` TXT entry per address), so
other libp2p nodes see us, but binds only the listen addresses' interfaces (a node listening on
127.0.0.1 is discoverable on loopback only) and hands each self it finds to `on_found`.

zeroconf runs its own threads: `on_found` is called from them and must hand over to trio.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
from collections.abc import Callable, Sequence

from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf

from secondme.network.addresses import interface_ips, local_interface_addresses

log = logging.getLogger(__name__)

SERVICE_TYPE = "_p2p._udp.local."
Found = Callable[[str, list[str]], None]


def _ipv4_of(address: str) -> str | None:
    parts = address.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "ip4" else None


def _local_ipv4s() -> list[str]:
    return interface_ips(local_interface_addresses(), "ip4")


def advertised(addresses: Sequence[str]) -> tuple[list[str], list[str]]:
    """(interfaces to bind, multiaddrs to announce) for the host's listen addresses.

    A wildcard listen address (0.0.0.0) means every interface, announced with each local IPv4.
    """
    interfaces: list[str] = []
    announce: list[str] = []
    for address in addresses:
        ip = _ipv4_of(address)
        if ip is None:
            continue
        ips = [i for i in _local_ipv4s() if i != "127.0.0.1"] if ip == "0.0.0.0" else [ip]
        for concrete in ips:
            if concrete not in interfaces:
                interfaces.append(concrete)
            announce.append(address.replace(f"/ip4/{ip}/", f"/ip4/{concrete}/", 1))
    return interfaces, announce


def _parse(info: ServiceInfo) -> tuple[str, list[str]] | None:
    peer = ""
    addresses = []
    for key, value in (info.properties or {}).items():
        if not key.startswith(b"dnsaddr") or not value:
            continue
        text = value.decode("utf-8", "replace")
        if "/p2p/" not in text:
            continue
        addresses.append(text)
        peer = text.rsplit("/p2p/", 1)[1]
    return (peer, addresses) if peer and addresses else None


class _Listener(ServiceListener):
    def __init__(self, discovery: MdnsDiscovery) -> None:
        self.discovery = discovery

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.discovery._resolve(zc, type_, name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.discovery._resolve(zc, type_, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass


class MdnsDiscovery:
    def __init__(self, peer_id: str, listen_addresses: Sequence[str], on_found: Found) -> None:
        self.peer_id = peer_id
        self.interfaces, self.announce = advertised(listen_addresses)
        self.on_found = on_found
        self._zeroconf: Zeroconf | None = None
        self._info: ServiceInfo | None = None
        self._browser: ServiceBrowser | None = None

    def start(self) -> None:
        """Blocking (zeroconf probes the name for about a second): call it from a worker thread."""
        if not self.interfaces:
            log.info("mDNS: no IPv4 listen address to announce; mDNS stays off")
            return
        choice = InterfaceChoice.All if len(self.interfaces) > 8 else self.interfaces
        self._zeroconf = Zeroconf(interfaces=choice, ip_version=IPVersion.V4Only)
        # libp2p's mDNS uses a random instance name; the peer ID travels in the TXT record.
        name = secrets.token_hex(16)
        properties = {
            (b"dnsaddr" if i == 0 else f"dnsaddr{i + 1}".encode()): a.encode()
            for i, a in enumerate(f"{a}/p2p/{self.peer_id}" for a in self.announce)
        }
        port = int(self.announce[0].split("/tcp/")[1].split("/")[0]) if "/tcp/" in self.announce[0] else 0
        self._info = ServiceInfo(
            SERVICE_TYPE,
            f"{name}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(ip) for ip in self.interfaces],
            port=port,
            properties=properties,
            server=f"{name}.local.",
        )
        self._zeroconf.register_service(self._info)
        self._browser = ServiceBrowser(self._zeroconf, SERVICE_TYPE, _Listener(self))
        log.info("mDNS announcing on %s", ", ".join(self.interfaces))

    def close(self) -> None:
        if self._zeroconf is None:
            return
        with contextlib.suppress(Exception):
            if self._browser is not None:
                self._browser.cancel()
            if self._info is not None:
                self._zeroconf.unregister_service(self._info)
        with contextlib.suppress(Exception):
            self._zeroconf.close()
        self._zeroconf = None

    def _resolve(self, zc: Zeroconf, type_: str, name: str) -> None:
        try:
            info = zc.get_service_info(type_, name, 3000)
            parsed = _parse(info) if info is not None else None
            if parsed is None or parsed[0] == self.peer_id:
                return
            self.on_found(*parsed)
        except Exception:
            log.exception("mDNS: could not use the announcement %s", name)
