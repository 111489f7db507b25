"""Every numeric option of every command line has a range, checked before any work starts: at its
bounds it is accepted, beyond them refused with one line and exit status 2. The options are found by
walking each parser, so an option added later without a range fails here."""
from __future__ import annotations

import argparse
import math
import subprocess
import sys

import pytest

from realtime.app.options import build_parser as run_live_parser
from realtime.batch.cli import build_parser as process_parser
from realtime.bridges.feed import add_feed_arguments
from realtime.core.cli import OneLineParser
from realtime.recording.cli import build_parser as recorder_parser
from realtime.recording.replay import build_parser as replay_parser
from realtime.stream.subscriber import build_parser as subscriber_parser
from realtime.viewer.cli import build_parser as viewer_parser
from tests.conftest import REPO


def _feed_parser():
    parser = OneLineParser(prog="feed")
    add_feed_arguments(parser)
    return parser


def _calibration_parsers():
    from calibration.__main__ import build_parser
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {f"calibration {name}": sub for name, sub in subs.choices.items()}


def _bridge_parser(name: str):
    import importlib
    return lambda: importlib.import_module(f"realtime.bridges.{name}").build_parser()


PARSERS = {"run_live": run_live_parser, "recorder": recorder_parser, "viewer": viewer_parser,
           "subscriber": subscriber_parser, "replay": replay_parser, "feed": _feed_parser, "process": process_parser,
           **{f"bridge {name}": _bridge_parser(name) for name in ("vmc", "livelink", "ros2", "foxglove_ws")}}
REQUIRED = {"recorder": ["--out", "/tmp"], "replay": ["s.mcap"], "process": ["clip.mp4", "--out", "/tmp"],
            "calibration intrinsics": ["--images", ".", "--board", "9x6", "--square", "0.025", "--out", "x.json"],
            "calibration floor": ["--image", "x.png", "--calibration", "c.json", "--board", "9x6", "--square", "0.025"],
            "calibration board": ["--board", "9x6", "--square", "0.025", "--out", "b.png"],
            "calibration show": ["c.json"]}


def _all_parsers():
    parsers = {name: make() for name, make in PARSERS.items()}
    parsers.update(_calibration_parsers())
    return parsers


def _numeric_options():
    cases = []
    for name, parser in _all_parsers().items():
        for action in parser._actions:
            if action.option_strings and getattr(action.type, "low", None) is not None or \
                    getattr(action.type, "high", None) is not None:
                cases.append(pytest.param(name, action, id=f"{name} {action.option_strings[0]}"))
    return cases


def _parse(parser_name: str, argv: list[str]):
    parser = _all_parsers()[parser_name]
    base = list(REQUIRED.get(parser_name, []))
    for group in parser._mutually_exclusive_groups:  # the option under test replaces its group's other member
        flags = {f for a in group._group_actions for f in a.option_strings}
        if argv[0] in flags:
            for i in reversed(range(0, len(base), 1)):
                if base[i] in flags and base[i] != argv[0]:
                    del base[i:i + 2]
    return parser.parse_args(base + argv)


def test_no_numeric_option_is_left_without_a_range():
    unbounded = [f"{name} {a.option_strings[0]}" for name, parser in _all_parsers().items()
                 for a in parser._actions if a.type in (int, float)]
    assert unbounded == [], f"numeric options without a range: {unbounded}"
    assert len(_numeric_options()) >= 40


@pytest.mark.parametrize("parser_name, action", _numeric_options())
def test_a_numeric_option_takes_its_bounds_and_refuses_beyond_them(parser_name, action, capsys):
    kind, low, high = action.type.kind, action.type.low, action.type.high
    flag = action.option_strings[0]
    step = 1 if kind is int else max(1e-6, 1e-3 * max(abs(low or 0), abs(high or 0), 1))
    for ok in (low, high):
        if ok is not None:
            text = str(int(ok)) if kind is int else repr(float(ok))
            assert getattr(_parse(parser_name, [flag, text]), action.dest) == pytest.approx(ok)
    beyond = [v for v in ((low - step) if low is not None else None, (high + step) if high is not None else None)
              if v is not None] + ["nan", "inf", "twelve"]
    for bad in beyond:
        text = str(int(bad)) if kind is int and not isinstance(bad, str) else str(bad)
        with pytest.raises(SystemExit) as info:
            _parse(parser_name, [flag, text])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and flag in err[0] and "error:" in err[0], err


@pytest.mark.parametrize("argv, words", [
    (["--detector-threads", "64"], "--detector-threads: must be between 0 and"),
    (["--width", "100000"], "--width: must be between 16 and 7680"),
    (["--fps", "-1"], "--fps: must be between 1 and 240"),
    (["--publish", "tcp://127.0.0.1:70000"], "port from 1 to 65535"),
    (["--publish", "udp://x"], "expected tcp://HOST:PORT"),
    (["--summary-json", "/no/such/folder/summary.json"], "the folder /no/such/folder does not exist"),
    (["--record-video"], "--record-video needs --record DIR"),
])
def test_run_live_refuses_bad_options_in_one_line_before_any_work(argv, words):
    proc = subprocess.run([sys.executable, str(REPO / "run_live.py"), "--source", "demo", "--headless", *argv],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and words in lines[0], proc.stderr
    assert "source demo" not in proc.stdout  # nothing was started


def test_bounded_refuses_non_finite_numbers():
    from realtime.core.cli import bounded
    parse = bounded(float, 0, 1)
    for text in ("nan", "inf", "-inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
    assert math.isclose(parse("0.5"), 0.5)
