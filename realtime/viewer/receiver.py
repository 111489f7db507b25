"""The viewer's side of the stream: a ZeroMQ SUB socket that always hands over the newest frame.

No window here, so the receive logic can be tested with real sockets and no display.

Why drain-to-newest and not ``ZMQ_CONFLATE``: CONFLATE does not support multipart messages, and every
frame of ``semgcn.pose/1`` is multipart. Instead each ``poll`` reads everything queued and keeps the
last valid frame; a small receive high-water mark bounds the queue, and the publisher drops (never
blocks) when it is full. ZeroMQ reconnects by itself when the publisher restarts; ``StreamStats``
tells when nothing has arrived for a while, so the viewer can say it is waiting.
"""
from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass

from realtime.core.records import FrameResult
from realtime.stream.wire import TOPIC, WireError, decode


log_warning = logging.getLogger(__name__).warning

@dataclass
class ReceiverOptions:
    """Socket settings of the viewer's subscriber.

    Attributes:
        receive_hwm: messages ZeroMQ may queue for the viewer before the publisher drops them.
        reconnect_ms: first delay before reconnecting to a vanished publisher.
        reconnect_max_ms: longest delay between reconnection attempts.
        max_drain: most messages read in one ``poll`` (bounds its time if the stream is flooding).
        max_reported_errors: distinct malformed-message reasons printed; the rest are only counted.
    """

    receive_hwm: int = 8
    reconnect_ms: int = 100
    reconnect_max_ms: int = 1000
    max_drain: int = 1000
    max_reported_errors: int = 5


class StreamReceiver:
    """Subscribe to a ``semgcn.pose`` stream and return its newest frame on demand.

    Args:
        address: ZeroMQ endpoint of the publisher, e.g. ``tcp://127.0.0.1:5555``.
        options: socket settings.
        log: where one-line warnings go (malformed messages), default stderr.
    Raises:
        ValueError: for an address ZeroMQ cannot connect to (a typo, an unknown transport).
    Attributes:
        received: valid frames read. skipped: valid frames read but superseded by a newer one in
        the same ``poll`` (never drawn). malformed: messages that failed to decode.
    """

    def __init__(self, address: str, options: ReceiverOptions = ReceiverOptions(), log=None):
        import zmq

        self.address, self.options = address, options
        self._log = log or log_warning
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, options.receive_hwm)
        self._socket.setsockopt(zmq.RECONNECT_IVL, options.reconnect_ms)
        self._socket.setsockopt(zmq.RECONNECT_IVL_MAX, options.reconnect_max_ms)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, TOPIC)
        try:
            self._socket.connect(address)
        except zmq.ZMQError as exc:
            self._socket.close(linger=0)
            self._context.term()
            raise ValueError(f"cannot connect to {address!r}: {exc} (expected e.g. tcp://127.0.0.1:5555)") from None
        self._zmq = zmq
        self.received = self.skipped = self.malformed = 0
        self._reported: set[str] = set()

    def poll(self, timeout_s: float = 0.0) -> FrameResult | None:
        """Wait up to ``timeout_s`` for a message, then read all queued ones; the newest valid frame.

        Returns None when no valid frame arrived. Older frames read in the same call are counted in
        ``skipped`` (a live view draws only the newest).
        """
        frames = self.poll_all(timeout_s)
        self.skipped += max(len(frames) - 1, 0)
        return frames[-1] if frames else None

    def poll_all(self, timeout_s: float = 0.0) -> list[FrameResult]:
        """Wait up to ``timeout_s`` for a message, then read all queued ones; every valid frame, in order.

        Malformed messages are skipped: each distinct reason is reported once (up to
        ``max_reported_errors``) and all are counted in ``malformed``.
        """
        zmq = self._zmq
        if not self._socket.poll(int(max(timeout_s, 0.0) * 1000), zmq.POLLIN):
            return []
        frames = []
        for _ in range(self.options.max_drain):
            try:
                parts = self._socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            try:
                frames.append(decode(parts))
            except WireError as exc:
                self._report(str(exc))
        self.received += len(frames)
        return frames

    def _report(self, reason: str) -> None:
        self.malformed += 1
        if reason not in self._reported and len(self._reported) < self.options.max_reported_errors:
            self._reported.add(reason)
            self._log(f"viewer: skipped a malformed message from {self.address}: {reason}")

    def close(self) -> None:
        """Close the socket and its context (idempotent)."""
        self._socket.close(linger=0)
        self._context.term()


class StreamStats:
    """Frame rate, latency and staleness of the stream as the viewer sees it.

    Args:
        stale_after_s: seconds without a frame after which the stream counts as stalled.
        window_s: seconds of arrivals the frame rate is measured over.
    """

    def __init__(self, stale_after_s: float = 1.0, window_s: float = 1.0):
        self.stale_after_s, self.window_s = stale_after_s, window_s
        self._arrivals: collections.deque[float] = collections.deque()
        self.last_arrival: float | None = None
        self.last_frame: FrameResult | None = None
        self.latency_s = 0.0          # capture -> shown, same-machine clocks
        self.pipeline_latency_s = 0.0  # capture -> publish, measured by the pipeline

    def add(self, frame: FrameResult, frames_in_poll: int = 1, now: float | None = None) -> None:
        """Record a received frame (``frames_in_poll`` counts frames drained with it)."""
        now = time.time() if now is None else now
        self._arrivals.extend([now] * max(frames_in_poll, 1))
        self.last_arrival, self.last_frame = now, frame
        self.latency_s = now - frame.t_capture
        self.pipeline_latency_s = frame.latency_s

    def fps(self, now: float | None = None) -> float:
        """Frames received per second over the last ``window_s``."""
        now = time.time() if now is None else now
        while self._arrivals and self._arrivals[0] < now - self.window_s:
            self._arrivals.popleft()
        return len(self._arrivals) / self.window_s

    def stale(self, now: float | None = None) -> bool:
        """True when no frame arrived in the last ``stale_after_s`` (or none ever did)."""
        now = time.time() if now is None else now
        return self.last_arrival is None or now - self.last_arrival > self.stale_after_s

    def status_text(self, address: str, now: float | None = None) -> str:
        """The viewer's status line: waiting, nobody in view, or FPS and latencies."""
        now = time.time() if now is None else now
        if self.stale(now):
            since = "" if self.last_arrival is None else f" (last frame {now - self.last_arrival:.0f} s ago)"
            return f"waiting for stream {address}{since}"
        frame = self.last_frame
        line = (f"{self.fps(now):4.1f} fps   latency {1000 * self.latency_s:4.0f} ms "
                f"(pipeline {1000 * self.pipeline_latency_s:3.0f} ms)   frame {frame.frame_index}")
        return line if frame.has_person else line + "   nobody in view"
