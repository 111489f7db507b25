"""What every command line of the project shares: one-line errors, bounded numeric options, and
library log records as one-line messages.

    parser = OneLineParser(prog="python -m realtime.subscriber", ...)
    parser.add_argument("--count", type=bounded(int, 1, 10**9), ...)
    parser.add_argument("--publish", type=zmq_endpoint, ...)

A value out of its range, a malformed address, or a folder that does not exist is refused while the
arguments are parsed, before any work starts: one line on stderr (``prog: error: argument --count:
...``) and exit status 2. Library modules log through ``logging``; a command line calls
``configure_logging()`` once, so that a warning reaches the user as ``warning: <message>``.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from engines.backends import MAX_THREADS  # noqa: F401 - the bound of every --threads option

__all__ = ["MAX_THREADS", "OneLineParser", "bounded", "configure_logging", "new_file", "output_dir", "zmq_endpoint"]


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``prog: error: ...``) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def bounded(kind: type, low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    """An argparse ``type`` accepting a finite ``kind`` (int or float) in ``[low, high]``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {_range(low, high)}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    parse.kind, parse.low, parse.high = kind, low, high  # for the tests that check every option's range
    return parse


def _range(low, high) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def zmq_endpoint(text: str) -> str:
    """An argparse ``type`` for a ZeroMQ endpoint: ``tcp://HOST:PORT`` (PORT 1-65535 or ``*``),
    ``ipc://PATH`` or ``inproc://NAME``."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("tcp", "ipc", "inproc") or not rest:
        raise argparse.ArgumentTypeError(f"expected tcp://HOST:PORT, ipc://PATH or inproc://NAME, got {text!r}")
    if scheme == "tcp":
        host, _, port = rest.rpartition(":")
        if not host or not (port == "*" or (port.isdigit() and 1 <= int(port) <= 65535)):
            raise argparse.ArgumentTypeError(f"expected tcp://HOST:PORT with a port from 1 to 65535 (or *), "
                                             f"got {text!r}")
    return text


def new_file(text: str) -> str:
    """An argparse ``type`` for a file to write later: its folder must exist now and be writable."""
    folder = Path(text).expanduser().parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {folder}")
    return text


def output_dir(text: str) -> str:
    """An argparse ``type`` for a folder to write into (made if missing; its parent must be writable)."""
    path = Path(text).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {text} ({existing} is not a writable folder)")
    return text


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def configure_logging(level: int = logging.WARNING) -> None:
    """Send log records of ``level`` and above to stderr as ``level: message`` lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logging.basicConfig(level=level, handlers=[handler], force=True)
