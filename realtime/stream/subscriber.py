"""Receive the live pose stream: ``decode``, a ``Subscriber`` class and a command line.

    python -m realtime.subscriber --connect tcp://127.0.0.1:5555            # print the stream
    python -m realtime.subscriber --connect tcp://127.0.0.1:5555 --csv poses.csv --count 300

In your own program (a game engine bridge, a robot controller)::

    from realtime.subscriber import Subscriber
    with Subscriber("tcp://127.0.0.1:5555", conflate=True) as sub:
        while True:
            frame = sub.recv(timeout_ms=1000)        # None on timeout
            if frame is not None and frame.has_person:
                use(frame.joints_3d)                 # (16, 3) float32 metres, camera frame
                                                     # (frame.people: every person, a PersonPose each)

A malformed or foreign message raises ``WireError`` from ``recv``; ``iterate`` and the command line
report it on one line and go on with the next message.
"""
from __future__ import annotations

import argparse
import csv
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import zmq

from realtime.core.cli import OneLineParser, bounded, configure_logging, new_file, zmq_endpoint
from realtime.core.records import FrameResult, PersonPose
from realtime.stream.wire import TOPIC, Frame, WireError, decode
from semgcn.skeleton import JOINT_NAMES

__all__ = ["Frame", "FrameResult", "PersonPose", "WireError", "decode", "Subscriber", "iterate", "csv_header",
           "csv_row", "main"]
log = logging.getLogger(__name__)


class Subscriber:
    """A SUB socket connected to the stream.

    Args:
        address: endpoint of the publisher, e.g. ``tcp://127.0.0.1:5555``.
        conflate: keep only the newest frame: ``recv`` skips every frame already queued and returns
            the latest (for consumers that want the current pose, not every pose). ZeroMQ's own
            ``ZMQ_CONFLATE`` cannot be used: it does not support multipart messages.
        topic: topic prefix to subscribe to (the stream's is ``b"pose"``; ``b""`` takes everything).
        rcvhwm: messages queued before ZeroMQ drops new ones for this subscriber.
        context: ZeroMQ context; the global instance when None.
    """

    def __init__(self, address: str, conflate: bool = False, topic: bytes = TOPIC, rcvhwm: int = 100,
                 context: zmq.Context | None = None):
        self.address = address
        self.conflate = conflate
        self.received = 0
        self.skipped = 0
        self.malformed = 0
        self._socket = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, rcvhwm)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, topic)
        self._socket.connect(address)

    def recv_parts(self, timeout_ms: int | None = 1000) -> list[bytes] | None:
        """The raw parts of the next message (newest one with ``conflate``), or None on timeout."""
        if not self._socket.poll(timeout_ms if timeout_ms is not None else -1, zmq.POLLIN):
            return None
        parts = self._socket.recv_multipart()
        while self.conflate:
            try:
                parts = self._socket.recv_multipart(zmq.NOBLOCK)
                self.skipped += 1
            except zmq.Again:
                break
        self.received += 1
        return parts

    def recv(self, timeout_ms: int | None = 1000) -> FrameResult | None:
        """The next frame, or None when nothing arrived within ``timeout_ms`` (None: wait forever).

        Raises:
            WireError: the message is not a valid frame (counted in ``malformed``; the subscriber
                stays usable).
        """
        parts = self.recv_parts(timeout_ms)
        if parts is None:
            return None
        try:
            return decode(parts)
        except WireError:
            self.malformed += 1
            raise

    def close(self) -> None:
        self._socket.close(0)

    def __enter__(self) -> "Subscriber":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iterate(subscriber: Subscriber, count: int | None = None, timeout_s: float | None = None,
            on_error: Callable[[WireError], None] | None = None, stop: threading.Event | None = None,
            poll_s: float = 0.1) -> Iterator[FrameResult]:
    """Yield valid frames; report malformed messages through ``on_error`` and carry on.

    The one receive loop of the subscriber's command line, the bridges' feed and the tests.

    Args:
        subscriber: a connected ``Subscriber``.
        count: stop after this many valid frames (None: never).
        timeout_s: stop when no message arrived for this long (None: wait forever).
        on_error: called with each ``WireError``; default logs one warning.
        stop: stop when this event is set (checked at least every ``poll_s``; between frames, so that
            a frame being handled is never cut in half).
        poll_s: how long one wait for a message lasts.
    """
    on_error = on_error or (lambda exc: log.warning("skipped a message: %s", exc))
    delivered, idle_s = 0, 0.0
    while (count is None or delivered < count) and not (stop is not None and stop.is_set()):
        try:
            frame = subscriber.recv(int(poll_s * 1000))
        except WireError as exc:
            on_error(exc)
            continue
        if frame is None:
            idle_s += poll_s
            if timeout_s is not None and idle_s >= timeout_s:
                return
            continue
        idle_s = 0.0
        delivered += 1
        yield frame


def csv_header() -> list[str]:
    """Column names of the CSV the command line writes (one row per frame)."""
    columns = ["frame_index", "seq", "t_capture", "t_publish", "latency_ms", "has_person", "error"]
    for name in JOINT_NAMES:
        columns += [f"{name}_x", f"{name}_y", f"{name}_z"]
    for name in JOINT_NAMES:
        columns += [f"{name}_u", f"{name}_v", f"{name}_conf"]
    return columns


def csv_row(frame: FrameResult) -> list:
    """One CSV row: timestamps, then 3D joints (m) and 2D keypoints (px); empty cells without a person."""
    row = [frame.frame_index, frame.header.get("seq", ""), f"{frame.t_capture:.6f}", f"{frame.t_publish:.6f}",
           f"{frame.latency_s * 1e3:.2f}", int(frame.has_person), frame.header.get("error", "")]
    n = len(JOINT_NAMES)
    joints = frame.joints_3d if frame.joints_3d is not None else np.full((n, 3), np.nan)
    kp = frame.keypoints_2d if frame.keypoints_2d is not None else np.full((n, 2), np.nan)
    conf = frame.confidence if frame.confidence is not None else np.full((n,), np.nan)
    row += ["" if np.isnan(v) else f"{v:.5f}" for v in joints.reshape(-1)]
    row += ["" if np.isnan(v) else f"{v:.3f}" for v in np.column_stack([kp, conf]).reshape(-1)]
    return row


def describe(frame: FrameResult) -> str:
    """One printed line per frame."""
    text = f"frame {frame.frame_index:6d}  latency {frame.latency_s * 1e3:7.1f} ms  "
    if not frame.has_person:
        return text + ("nobody" if "error" not in frame.header else f"no pose ({frame.header['error']})")
    head, pelvis = frame.joints_3d[JOINT_NAMES.index("head")], frame.joints_3d[0]
    return text + f"person  head-pelvis {np.linalg.norm(head - pelvis):.2f} m  head {np.round(head, 3).tolist()}"


def build_parser() -> OneLineParser:
    """The command line of ``python -m realtime.subscriber``."""
    parser = OneLineParser(prog="python -m realtime.subscriber",
                           description="Print the live pose stream (semgcn.pose/1, docs/stream_format.md) or write it to "
                           "CSV. Malformed messages are counted, reported on stderr and skipped; Ctrl-C or SIGTERM "
                           "stop cleanly (whole CSV rows only, and a summary).",
                           epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connect", type=zmq_endpoint, default="tcp://127.0.0.1:5555",
                        help="publisher endpoint to connect to (default: %(default)s)")
    parser.add_argument("--csv", type=new_file, metavar="FILE", help="write one row per frame to this CSV file instead of printing")
    parser.add_argument("--count", type=bounded(int, 1, 10**9), default=None,
                        help="stop after this many frames (default: run until Ctrl-C)")
    parser.add_argument("--timeout", type=bounded(float, 0.01, 86400), default=None,
                        help="stop when no message arrived for this many seconds (default: wait forever)")
    parser.add_argument("--latest", action="store_true",
                        help="conflate: skip queued frames and always take the newest one")
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    stop = threading.Event()
    # Both signals only set a flag, checked between frames: a CSV row is never cut in half.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    handle = None
    tally = {"frames": 0, "malformed": 0, "missed": 0}
    started = time.monotonic()
    try:
        with Subscriber(args.connect, conflate=args.latest) as sub:
            if args.csv:
                handle = open(args.csv, "w", newline="", encoding="utf-8")
            _receive(sub, args, stop, handle, tally)
    except (OSError, zmq.ZMQError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if handle is not None:
            handle.close()
    frames = tally["frames"]
    print(f"received {frames} frames" + (f" in {time.monotonic() - started:.1f} s" if frames else "")
          + (f", skipped {tally['malformed']} malformed messages" if tally["malformed"] else "")
          + (f", missed {tally['missed']} (seq gaps)" if tally["missed"] else "")
          + (f", written to {args.csv}" if args.csv else ""), file=sys.stderr)
    return 1 if args.count is not None and frames < args.count else 0


def _receive(sub: Subscriber, args, stop: threading.Event, handle, tally: dict) -> None:
    """Take frames until ``--count``, ``--timeout`` of silence or a stop; one whole CSV row (or printed
    line) per frame, flushed as it is written, so that a stop at any moment leaves whole rows only."""
    writer = csv.writer(handle) if handle is not None else None
    if writer is not None:
        writer.writerow(csv_header())

    def malformed(exc: WireError) -> None:
        tally["malformed"] += 1
        if tally["malformed"] <= 5 or tally["malformed"] % 100 == 0:
            print(f"error: skipped a message ({tally['malformed']} so far): {exc}", file=sys.stderr, flush=True)

    last_seq = None
    for frame in iterate(sub, args.count, args.timeout, on_error=malformed, stop=stop):
        tally["frames"] += 1
        if frame.seq is not None and last_seq is not None and frame.seq > last_seq + 1:
            tally["missed"] += frame.seq - last_seq - 1  # messages this subscriber missed (its queue was full)
        last_seq = frame.seq if frame.seq is not None else last_seq
        if writer is not None:
            writer.writerow(csv_row(frame))
            handle.flush()
        else:
            print(describe(frame), flush=True)


if __name__ == "__main__":
    sys.exit(main())
