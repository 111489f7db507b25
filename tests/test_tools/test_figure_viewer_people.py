"""The figure of several people in the viewer: a recorded 3-person session drawn by the viewer's CLI."""
from __future__ import annotations

import colorsys

import cv2
import numpy as np

from realtime.core.palette import person_colours
from realtime.recording.session_reader import read_session
from tools.figure_viewer_people import main


def test_the_figure_shows_three_people_each_in_their_colour(tmp_path, capsys):
    out, session = tmp_path / "people.png", tmp_path / "people.mcap"
    assert main(["--out", str(out), "--session-out", str(session), "--frames", "20", "--width", "480",
                 "--height", "270"]) == 0
    assert "python -m realtime.viewer --session" in capsys.readouterr().out  # the command it ran
    frames = read_session(session).frames
    assert len(frames) == 20 and all([p.id for p in f.people] == [0, 1, 2] and f.wire_major == 2 for f in frames)
    image = cv2.imread(str(out))[..., ::-1].reshape(-1, 3).astype(float) / 255
    coloured = image[(image.max(axis=1) > 0.35) & (np.ptp(image, axis=1) > 0.25)]
    hues = 360 * np.array([colorsys.rgb_to_hsv(*p)[0] for p in coloured])
    for person_id in (0, 1, 2):
        own = 360 * colorsys.rgb_to_hsv(*person_colours(person_id).centre)[0]
        assert (np.abs((hues - own + 180) % 360 - 180) < 12).sum() > 100, person_id
