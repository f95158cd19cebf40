"""The client's address, from X-Forwarded-For only when the peer is a configured proxy.

Without this, anyone could send X-Forwarded-For and choose the address the rate
limits count (uvicorn trusts it from loopback by default, so `serve` turns that
off). With `ORIENTATION_TRUSTED_PROXIES` set (addresses or networks, comma
separated), the client is the right-most address of the header that is not a
trusted proxy: the left part of the header is whatever the client wrote.
"""
from __future__ import annotations

import ipaddress

__all__ = ["ClientAddress", "parse_networks"]


def parse_networks(value: str) -> tuple:
    """"10.0.0.1, 192.168.0.0/16" -> networks; a French ValueError for a bad one."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"ORIENTATION_TRUSTED_PROXIES : « {part} » n'est ni une adresse IP ni un réseau") from None
    return tuple(networks)


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


class ClientAddress:
    def __init__(self, app, trusted: str = ""):
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and self.networks and scope.get("client"):
            peer = scope["client"][0]
            if _trusted(peer, self.networks):
                forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"x-forwarded-for"]
                hops = [h.strip() for h in ",".join(forwarded).split(",") if h.strip()]
                client = peer
                for hop in reversed(hops):
                    client = hop
                    if not _trusted(hop, self.networks):
                        break
                scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)
