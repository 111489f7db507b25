"""Whether an address stays on this machine: the one test behind every "reachable from other machines"
warning (the ZeroMQ publisher, the UDP bridges, the Foxglove server), so that they agree at the edges."""
from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost``, 127.0.0.0/8, ``::1`` (with or without
    the brackets of a URL). A name that merely starts with "127." (``127.example.com``) is not an
    address and does not count; nor do ``*`` and ``0.0.0.0`` (every interface)."""
    host = host.strip()
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["is_loopback_host"]
