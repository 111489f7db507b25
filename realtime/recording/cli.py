"""``python -m realtime.recorder``: record any ``semgcn.pose`` stream to a session file until stopped.

Subscribes to the stream with ``realtime.stream.subscriber.Subscriber`` and writes every message,
byte for byte, through ``realtime.recording.recorder.Recorder``. Ctrl-C or SIGTERM stop it cleanly (the file gets its summary); SIGKILL
loses at most the last flush interval (0.5 s).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any

import zmq
from tqdm import tqdm

from realtime.core.cli import OneLineParser, bounded, configure_logging, zmq_endpoint
from realtime.recording.recorder import Recorder, RecorderOptions, RecordingError
from realtime.stream.subscriber import Subscriber

_POLL_MS = 100
_DRAIN_S = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m realtime.recorder",
        description="Record a semgcn.pose ZeroMQ stream to an MCAP session file (docs/recording.md). "
                    "Stops on Ctrl-C / SIGTERM, or after --max-frames / --duration.")
    parser.add_argument("--connect", type=zmq_endpoint, default="tcp://127.0.0.1:5555",
                        help="ZeroMQ address of the publisher to record (default: %(default)s)")
    parser.add_argument("--out", required=True,
                        help="folder for the session file (session_<UTC time>.mcap), or a .mcap file path")
    parser.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                        help="extra session metadata; VALUE is parsed as JSON when it is valid JSON "
                             "(repeatable), e.g. --meta subject=\"anna\" --meta fps=30")
    parser.add_argument("--max-frames", type=bounded(int, 1, 10**9), default=None, help="stop after this many frames")
    parser.add_argument("--duration", type=bounded(float, 0.01, 10 * 86400), default=None,
                        help="stop after this many seconds")
    parser.add_argument("--flush-interval", type=bounded(float, 0.05, 60), default=RecorderOptions.flush_interval_s,
                        help="seconds between flushes to disk, the most a crash can lose (0.05 to 60; default: "
                        "%(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def parse_meta(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` -> dict; values that parse as JSON are kept typed, others as strings."""
    meta: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--meta expects KEY=VALUE, got {item!r}")
        try:
            meta[key] = json.loads(value)
        except json.JSONDecodeError:
            meta[key] = value
    return meta


def _drain(sub: Subscriber, rec: Recorder, bar, max_frames: int | None) -> None:
    """On a stop, record what already arrived on the socket: the frames sent before the signal are
    kept (at most ``_DRAIN_S`` of them, so that a flooding stream cannot hold the exit up)."""
    deadline = time.monotonic() + _DRAIN_S
    while time.monotonic() < deadline and (max_frames is None or rec.frames_written < max_frames):
        parts = sub.recv_parts(0)
        if parts is None:
            return
        try:
            rec.write(parts)
        except RecordingError:
            return
        bar.update(1)


def main(argv: list[str] | None = None) -> int:
    """Run the recorder; returns the process exit code (1 when a write error stopped it)."""
    args = build_parser().parse_args(argv)
    configure_logging()
    stop = threading.Event()
    # Both signals only set a flag, so a message is never cut in half inside the MCAP writer.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    metadata = {"source": f"stream {args.connect}", "recorded_by": "python -m realtime.recorder",
                **parse_meta(args.meta)}
    sub = None
    try:
        sub = Subscriber(args.connect, rcvhwm=1000)  # ZeroMQ's default queue: a recorder wants every frame
        rec = Recorder(args.out, metadata, options=RecorderOptions(flush_interval_s=args.flush_interval))
    except (zmq.ZMQError, OSError) as exc:
        if sub is not None:
            sub.close()
        print(f"error: cannot record {args.connect} into {args.out}: {exc}", file=sys.stderr)
        return 1
    print(f"recording {args.connect} -> {rec.path} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    bar = tqdm(unit="frame", desc="recording", disable=args.quiet, file=sys.stderr, mininterval=1.0)
    t_start = time.monotonic()
    try:
        while not stop.is_set() and rec.ok:
            if args.max_frames is not None and rec.frames_written >= args.max_frames:
                break
            if args.duration is not None and time.monotonic() - t_start >= args.duration:
                break
            parts = sub.recv_parts(_POLL_MS)
            if parts is not None:
                try:
                    rec.write(parts)
                except RecordingError:
                    break  # disk full: rec.error says so below
                bar.update(1)
            else:
                rec.flush_if_due()  # the stream went quiet: get what is buffered onto the disk
        if stop.is_set() and rec.ok:
            _drain(sub, rec, bar, args.max_frames)
    finally:
        bar.close()
        rec.close()
        sub.close()
    if rec.error:
        print(f"error: {rec.error}", file=sys.stderr)
        return 1
    note = f", {rec.rejected} invalid messages skipped" if rec.rejected else ""
    print(f"saved {rec.frames_written} frames to {rec.path}{note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
