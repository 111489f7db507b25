"""The live window as a person sees it: run_live.py under a real (virtual) X server opens its window
at the frame's size, shows the frame 1:1, and its status text is legible."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from tools.screenshot_live_window import _window_box, capture


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (apt-get install xvfb; .ci/run installs it)")
def test_the_window_opens_at_the_frame_size_with_legible_status_text():
    screen = capture(2.0, 640, 480)
    x, y, w, h = _window_box(screen)
    assert (w, h) == (640, 480), f"the window shows {w}x{h} for 640x480 frames"
    hud = screen[y:y + 80, x:x + 300].max(axis=2)
    rows = np.flatnonzero((hud > 200).sum(axis=1) > 3)  # lines of white text on the dark box
    assert rows.size and rows.max() - rows.min() > 40  # three lines of text
    first_line = rows[rows < rows.min() + 20]
    assert first_line.max() - first_line.min() + 1 >= 9, "characters under 9 px are not legible"
