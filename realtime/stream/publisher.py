"""The ZeroMQ publisher of the live stream: a consumer that never stalls the pipeline.

The socket is an XPUB (a PUB that also reports subscriptions), so that ``wait_for_subscribers`` can
hold the first frame back until a subscriber has joined (the PUB/SUB "slow joiner": messages sent
before a subscription arrives are lost). Sending never blocks: ZeroMQ keeps at most ``sndhwm``
messages queued per subscriber and drops the rest for that subscriber only, so a slow or dead
subscriber costs neither time nor memory. Subscribers see such losses as gaps in ``header["seq"]``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import zmq

from realtime.core.network import is_loopback_host
from realtime.core.records import FrameResult
from realtime.stream.wire import encode

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "tcp://127.0.0.1:5555"


class PublisherError(RuntimeError):
    """The publish address cannot be bound (in use, malformed, not permitted); one line."""


@dataclass
class PublisherOptions:
    """Options of ``Publisher``.

    Attributes:
        address: ZeroMQ endpoint to bind, e.g. ``tcp://127.0.0.1:5555``; ``tcp://0.0.0.0:5555``
            publishes on every interface (a warning is printed), ``ipc:///tmp/pose`` locally.
        sndhwm: messages queued per subscriber before ZeroMQ drops for that subscriber (32 frames,
            about a second of stream and ~100 kB: a bounded memory cost per subscriber).
        linger_ms: how long ``close`` may wait to deliver queued messages (so that the last frames
            of a run reach the subscribers; bounded, so that a stalled one cannot hold up the exit).
    """

    address: str = DEFAULT_ADDRESS
    sndhwm: int = 32
    linger_ms: int = 1000


def is_loopback_address(address: str) -> bool:
    """Whether a tcp endpoint is bound to the loopback interface only (ipc/inproc count as local)."""
    if not address.startswith("tcp://"):
        return True
    return is_loopback_host(urlsplit(address).hostname or "")


class Publisher:
    """Binds the stream's PUB socket; a pipeline consumer (``consume(result)``, ``close()``).

    Args:
        options: ``PublisherOptions``; defaults (127.0.0.1:5555) when None.
        context: ZeroMQ context; the global instance when None.
    """

    name = "publish"

    def __init__(self, options: PublisherOptions | None = None, context: zmq.Context | None = None):
        self.options = options or PublisherOptions()
        self.sent = 0
        self.dropped = 0
        self.subscriptions = 0
        self._closed = False
        self._socket = (context or zmq.Context.instance()).socket(zmq.XPUB)
        self._socket.setsockopt(zmq.SNDHWM, self.options.sndhwm)
        self._socket.setsockopt(zmq.LINGER, self.options.linger_ms)
        self._socket.setsockopt(zmq.XPUB_VERBOSE, 1)  # report every subscription, not only the first
        try:
            self._socket.bind(self.options.address)
        except zmq.ZMQError as exc:
            self._socket.close(0)
            raise PublisherError(f"cannot publish on {self.options.address}: {exc}") from None
        self.address = self._socket.getsockopt_string(zmq.LAST_ENDPOINT) or self.options.address
        if not is_loopback_address(self.address):
            log.warning("publishing on %s, reachable from other machines (the stream is not encrypted "
                        "or authenticated)", self.address)

    def _drain_subscriptions(self) -> None:
        """Read pending (un)subscription messages (1 byte 0/1, then the topic) without blocking."""
        while True:
            try:
                message = self._socket.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            if message[:1] == b"\x01":
                self.subscriptions += 1
            elif message[:1] == b"\x00":
                self.subscriptions = max(0, self.subscriptions - 1)

    def wait_for_subscribers(self, count: int = 1, timeout_s: float = 5.0) -> bool:
        """Block until ``count`` subscriptions have arrived or ``timeout_s`` passed.

        Returns:
            True when enough subscribers joined in time.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self._drain_subscriptions()
            if self.subscriptions >= count:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._socket.poll(int(min(remaining, 0.1) * 1000), zmq.POLLIN)

    def consume(self, result: FrameResult) -> bool:
        """Publish one frame (encoded once, shared with the other consumers); see :meth:`send`."""
        return self.send(encode(result))

    def send(self, parts: list[bytes]) -> bool:
        """Send one multipart message without blocking.

        Returns:
            True when ZeroMQ took the message (per-subscriber high-water-mark drops happen later,
            silently, and show as ``seq`` gaps at the subscriber); False when it was refused.
        """
        if self._closed:
            return False
        self._drain_subscriptions()
        try:
            # copy=True: for messages of a few kB copying is cheaper than zero-copy bookkeeping.
            self._socket.send_multipart(parts, flags=zmq.NOBLOCK, copy=True)
        except zmq.Again:
            self.dropped += 1
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        """Close the socket, waiting at most ``linger_ms`` for queued messages to leave."""
        if not self._closed:
            self._closed = True
            self._socket.close(self.options.linger_ms)

    def stats(self) -> dict[str, int]:
        return {"published": self.sent, "refused_by_zmq": self.dropped, "subscriptions": self.subscriptions}

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
