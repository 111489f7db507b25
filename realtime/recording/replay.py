"""Republish a recorded session, so that viewers, subscribers and bridges see it as live.

``replay_session(path, consumers)`` hands every recorded frame to each consumer (``consume(result)``:
the ZeroMQ ``Publisher``, a ``Recorder``, a bridge) at the recorded pace. Timestamps are moved to now,
as a live pipeline would stamp them:

* ``t_publish`` is the time of sending;
* ``t_capture`` is ``t_publish`` minus the recorded capture-to-publish latency, so ``latency_s`` (and
  anything a subscriber measures from it) is what it was during the recording;
* ``seq`` (the pipeline's message counter, when present) counts the republished messages from 0, so a
  subscriber sees gaps only when it really loses messages;
* ``header["replay"]`` = ``{"session": file name, "t_capture_recorded": original capture time}``, an
  extra field that consumers ignore unless they care.

Pacing follows the recorded publish times (the cadence live subscribers saw); ``speed`` scales it and
``speed=None`` sends as fast as the consumers take the frames. Command line::

    python -m realtime.recording.replay recordings/session_20250101_120000.mcap --speed 1 --address tcp://127.0.0.1:5555
"""
from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

from realtime.core.cli import OneLineParser, bounded, zmq_endpoint
from realtime.core.pipeline import Consumer
from realtime.core.records import FrameResult
from realtime.recording.session_reader import Session, SessionError, read_session


def replay_session(path: str | Path | Session, consumers: Sequence[Consumer], speed: float | None = 1.0,
                   max_frames: int | None = None, stop_event: threading.Event | None = None) -> int:
    """Hand the frames of a recorded session to ``consumers`` at the recorded timing.

    Args:
        path: the session file, or a :class:`Session` already read.
        consumers: objects with ``consume(result)``; each gets every frame.
        speed: playback speed factor (2.0 = twice as fast); None = as fast as possible.
        max_frames: stop after this many frames (None = the whole session).
        stop_event: set it (from another thread) to stop early; waiting for the next frame wakes up.
    Returns:
        the number of frames sent.
    Raises:
        SessionError: the file cannot be read as a session.
        ValueError: ``speed`` is not positive.
    """
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be a positive factor or None (as fast as possible), got {speed}")
    session = path if isinstance(path, Session) else read_session(path)
    frames = session.frames if max_frames is None else session.frames[:max(0, max_frames)]
    if not frames:
        return 0
    t_first = _schedule_time(frames[0])
    start = time.monotonic()
    sent = 0
    for frame in frames:
        if speed is not None:
            delay = start + (_schedule_time(frame) - t_first) / speed - time.monotonic()
            if delay > 0 and _wait(delay, stop_event):
                break
        if stop_event is not None and stop_event.is_set():
            break
        live = restamp(frame, session.path.name, seq=sent)
        for consumer in consumers:
            consumer.consume(live)
        sent += 1
    return sent


def restamp(frame: FrameResult, session_name: str, seq: int, now: float | None = None) -> FrameResult:
    """A copy of the recorded ``frame`` stamped as if published ``now``.

    Args:
        frame: a frame read from a session.
        session_name: the session's file name (goes into ``header["replay"]``).
        seq: the replay's message counter (replaces ``seq`` when the recording had one).
        now: publish time (UNIX seconds); the current time when None.
    """
    now = time.time() if now is None else now
    latency = frame.t_publish - frame.t_capture if frame.t_publish > 0 else 0.0
    header = {**frame.header, "replay": {"session": session_name, "t_capture_recorded": frame.t_capture}}
    return dataclasses.replace(frame, t_capture=now - latency, t_publish=now, header=header,
                               encodings={}, seq=seq if frame.seq is not None else None)


def _schedule_time(frame: FrameResult) -> float:
    return frame.t_publish if frame.t_publish > 0 else frame.t_capture


def _wait(delay: float, stop_event: threading.Event | None) -> bool:
    """Sleep ``delay`` seconds; True when ``stop_event`` was set meanwhile."""
    if stop_event is None:
        time.sleep(delay)
        return False
    return stop_event.wait(delay)


def build_parser() -> OneLineParser:
    """The command line of ``python -m realtime.recording.replay``."""
    parser = OneLineParser(prog="python -m realtime.recording.replay",
                           description="Republish a recorded session (.mcap) on the pose stream.")
    parser.add_argument("session", help="session file written by realtime.recorder / run_live.py --record")
    parser.add_argument("--address", type=zmq_endpoint, default="tcp://127.0.0.1:5555",
                        help="ZeroMQ address to publish on (default: %(default)s, loopback only)")
    parser.add_argument("--speed", type=bounded(float, 0.01, 100), default=1.0,
                        help="playback speed factor (0.01 to 100; default: 1)")
    parser.add_argument("--fast", action="store_true", help="as fast as possible (ignores --speed)")
    parser.add_argument("--loop", action="store_true", help="start again at the end, until Ctrl-C")
    parser.add_argument("--wait-subscriber", type=bounded(float, 0, 3600), default=2.0,
                        help="seconds to wait for a first subscriber before sending (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line: replay a session file on a ZeroMQ publisher."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from realtime.stream.publisher import Publisher, PublisherError, PublisherOptions

    try:
        session = read_session(args.session)
        publisher = Publisher(PublisherOptions(address=args.address))
    except (SessionError, PublisherError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not session.complete:
        print(f"warning: {session.loss_report()}", file=sys.stderr)
    publisher.wait_for_subscribers(1, args.wait_subscriber)
    print(f"replaying {len(session.frames)} frames ({session.duration_s:.1f} s) on {publisher.address}",
          file=sys.stderr)
    total = 0
    try:
        while True:
            total += replay_session(session, [publisher], None if args.fast else args.speed)
            if not args.loop:
                break
    except KeyboardInterrupt:
        pass
    finally:
        publisher.close()
    print(f"sent {total} frames", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
