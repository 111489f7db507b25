"""A screenshot of run_live.py's on-screen window, taken under a virtual X server (Xvfb), for docs.

    python -m tools.screenshot_live_window --out docs/figures/live_window.png

Starts Xvfb on a free display, runs ``run_live.py --source demo`` with its overlay window there (no
--headless), grabs the screen with ``mss`` after ``--after`` seconds, stops both, and writes the part
of the screen the window covers. Prints the window's size as found on the screen: the window opens
at the frame's size.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCREEN = (1600, 1000)


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on a display it chose itself (``-displayfd``: no race with other X servers), and that display."""
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                             "-nolisten", "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:  # Xvfb writes the number once it accepts connections
        number = pipe.readline().strip()
    if not number.isdigit():
        xvfb.kill()
        raise RuntimeError("Xvfb did not start")
    return xvfb, f":{number}"


def capture(seconds_after: float, width: int, height: int, timeout_s: float = 90.0) -> np.ndarray:
    """The screen (BGR) while run_live shows the demo at ``width`` x ``height``."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (Debian: apt-get install xvfb)")
    import mss

    xvfb, display = start_xvfb()
    app = None
    try:
        env = {**os.environ, "DISPLAY": display}
        app = subprocess.Popen([sys.executable, str(REPO / "run_live.py"), "--source", "demo", "--width", str(width),
                                "--height-px", str(height), "--max-frames", "100000", "--publish",
                                "tcp://127.0.0.1:*", "--status-every", "0"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout_s
        with mss.MSS(display=display) as grabber:
            _wait_for(lambda: _window_box(_grab(grabber)) is not None or app.poll() is not None, timeout_s,
                      "no window appeared")
            if app.poll() is not None:
                raise RuntimeError(f"run_live.py ended early: {app.stderr.read()[-500:]}")
            time.sleep(max(0.0, min(seconds_after, deadline - time.monotonic())))
            return _grab(grabber)
    finally:
        for proc in (app, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _grab(grabber) -> np.ndarray:
    shot = np.asarray(grabber.grab(grabber.monitors[0]))  # BGRA
    return np.ascontiguousarray(shot[:, :, :3])


def _window_box(screen: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x, y, w, h)`` of what is drawn on the (black) root window, or None when nothing is."""
    ys, xs = np.nonzero(screen.max(axis=2) > 8)
    if xs.size < 1000:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _wait_for(condition, timeout_s: float, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshot_live_window", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "figures" / "live_window.png"), help="PNG to write")
    parser.add_argument("--after", type=float, default=4.0, help="seconds of running before the screenshot")
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"), help="demo frame size")
    args = parser.parse_args(argv)
    try:
        screen = capture(args.after, *args.size)
    except RuntimeError as exc:
        print(f"screenshot_live_window: error: {exc}", file=sys.stderr)
        return 1
    box = _window_box(screen)
    if box is None:
        print("screenshot_live_window: error: the window showed nothing", file=sys.stderr)
        return 1
    x, y, w, h = box
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, screen[y:y + h, x:x + w])
    print(f"wrote {args.out}: the window shows {w}x{h} pixels for {args.size[0]}x{args.size[1]} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
