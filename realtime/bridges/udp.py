"""Sending datagrams to a game engine or avatar app without ever stalling the pipeline.

``UdpSender`` owns a non-blocking UDP socket: a datagram that cannot leave at once (the socket's send
buffer is full, the network is down, nobody listens and the kernel says so) is dropped and counted,
never waited for. Destinations are ``[HOST:]PORT``, loopback by default; any other host gets one
warning, since the poses then leave the machine unencrypted.
"""
from __future__ import annotations

import argparse
import logging
import socket
import sys

from realtime.bridges.feed import run_feed
from realtime.core.network import is_loopback_host

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def parse_destination(text: str, default_port: int, default_host: str = LOOPBACK) -> tuple[str, int]:
    """``"PORT"``, ``"HOST:PORT"``, ``"HOST"`` or ``"[IPv6]:PORT"`` -> (host, port).

    Raises:
        ValueError: for a port that is not an integer in 1..65535, or an empty host.
    """
    text = str(text).strip()
    host, port = default_host, str(default_port)
    if text.startswith("["):  # [::1]:39539
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif text.isdigit():
        port = text
    elif text:
        host = text
    if not host:
        raise ValueError(f"no host in destination {text!r} (expected [HOST:]PORT)")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"port must be 1-65535 in destination {text!r} (expected [HOST:]PORT)")
    return host, int(port)


class UdpSender:
    """A non-blocking UDP socket aimed at one destination (module docstring).

    Attributes:
        sent: datagrams handed to the kernel.
        dropped: datagrams dropped (would block, or an error from the network).
    """

    def __init__(self, host: str, port: int, label: str = "udp"):
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)  # OSError for an unknown host
        family, _, _, _, self.address = infos[0]
        self.label = label
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sent = self.dropped = 0
        self._last_error = ""
        if not is_loopback_host(host):
            log.warning("%s: sending to %s:%d, off this machine: the poses travel unencrypted and "
                        "unauthenticated", label, host, port)

    def send(self, datagram: bytes) -> bool:
        """Send one datagram now, or drop it; returns whether it left."""
        try:
            self.sock.sendto(datagram, self.address)
        except OSError as exc:  # BlockingIOError (buffer full), ConnectionRefusedError, network down...
            self.dropped += 1
            if type(exc).__name__ != self._last_error:  # one line per kind of failure, not per frame
                self._last_error = type(exc).__name__
                log.warning("%s: dropped a datagram to %s: %s (counting on)", self.label, self.address, exc)
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        self.sock.close()


def feed_udp_bridge(bridge, args: argparse.Namespace, destination: str, unit: str) -> int:
    """The command line's run of a UDP bridge (VMC, Live Link): feed ``bridge`` (a consumer whose
    ``sender`` is a ``UdpSender``) with ``realtime.bridges.feed``, then print one summary line of the
    ``unit`` (bundles, datagrams) sent to ``destination``. Returns the exit status: 0, or 1 with one
    error line for an input that cannot be read."""
    try:
        fed = run_feed(bridge, args)
    except (OSError, ValueError) as exc:  # an unreadable session: one line
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"sent {bridge.sender.sent} {unit} to {destination} ({fed.frames} frames, {bridge.sender.dropped} dropped, "
          f"{fed.malformed} malformed messages skipped)")
    return 0
