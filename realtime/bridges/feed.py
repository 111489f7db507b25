"""Feeding a bridge (any consumer) from a running stream or from a recording, for its command line.

    parser = argparse.ArgumentParser(...)
    add_feed_arguments(parser)                 # --connect ADDR | --session FILE, --speed, --max-frames...
    args = parser.parse_args()
    result = run_feed(my_consumer, args)        # until Ctrl-C / SIGTERM, the end of the session, or --max-frames

From a stream every valid frame goes to the consumer and malformed messages are counted (never
fatal); from a session the frames are replayed at the recorded pace (``--speed``) and stamped as live,
exactly as ``run_live.py --source replay:`` publishes them.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import dataclass

from realtime.core.cli import bounded, zmq_endpoint
from realtime.core.pipeline import Consumer
from realtime.stream.publisher import DEFAULT_ADDRESS

log = logging.getLogger(__name__)


@dataclass
class FeedResult:
    """What a feed delivered: ``frames`` handed to the consumer, ``malformed`` messages skipped, and
    ``problems`` of the session it read (empty for a stream)."""

    frames: int = 0
    malformed: int = 0
    problems: tuple[str, ...] = ()


def add_feed_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every bridge command line shares: where the frames come from, and for how long."""
    group = parser.add_argument_group("input")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--connect", type=zmq_endpoint, default=DEFAULT_ADDRESS, metavar="ADDR",
                        help="the pose stream to follow (default: %(default)s)")
    source.add_argument("--session", metavar="FILE", help="a recorded session (.mcap) to play instead of a stream")
    group.add_argument("--speed", type=bounded(float, 0, 100), default=1.0,
                       help="with --session: playback speed (1 = as recorded; 0 = as fast as possible)")
    group.add_argument("--max-frames", type=bounded(int, 1, 10**9), default=None, metavar="N", help="stop after N frames")
    group.add_argument("--timeout", type=bounded(float, 0.01, 86400), default=None, metavar="S",
                       help="with --connect: stop when no message came for S seconds (default: wait forever)")


def run_feed(consumer: Consumer, args: argparse.Namespace, stop: threading.Event | None = None) -> FeedResult:
    """Hand frames to ``consumer`` until the input ends, ``--max-frames``, or ``stop`` (SIGINT / SIGTERM
    set it when this runs in the main thread). The consumer is closed at the end."""
    stop = stop or _stop_on_signals()
    try:
        if args.session:
            return _from_session(consumer, args, stop)
        return _from_stream(consumer, args, stop)
    finally:
        consumer.close()


def _from_session(consumer: Consumer, args, stop: threading.Event) -> FeedResult:
    from realtime.recording.replay import replay_session
    from realtime.recording.session_reader import read_session

    session = read_session(args.session)  # SessionError: one line for the caller to print
    if not session.complete:
        log.warning("%s", session.loss_report())
    sent = replay_session(session, [consumer], speed=args.speed or None, max_frames=args.max_frames, stop_event=stop)
    return FeedResult(frames=sent, problems=tuple(session.problems))


def _from_stream(consumer: Consumer, args, stop: threading.Event) -> FeedResult:
    from realtime.stream.subscriber import Subscriber, iterate
    from realtime.stream.wire import WireError

    result = FeedResult()

    def malformed(exc: WireError) -> None:
        result.malformed += 1
        if result.malformed <= 3 or result.malformed % 100 == 0:
            log.warning("skipped a malformed message (%d so far): %s", result.malformed, exc)

    with Subscriber(args.connect) as subscriber:
        for frame in iterate(subscriber, args.max_frames, args.timeout, on_error=malformed, stop=stop):
            consumer.consume(frame)
            result.frames += 1
    return result


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    return stop
