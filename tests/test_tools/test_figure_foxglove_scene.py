"""tools.figure_foxglove_scene: the recording's Foxglove channels, decoded and carried through their
transforms, land where the stream put the world joints; the figure is written."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("foxglove", reason="the Foxglove channels need foxglove-sdk (pip install -r requirements.txt)")

from realtime.recording.recorder import Recorder  # noqa: E402
from tests.test_realtime.test_recording.foxglove_fixtures import calibrated_frames  # noqa: E402
from tools.figure_foxglove_scene import main, read_foxglove, to_display  # noqa: E402


def test_the_decoded_scene_lands_on_the_world_joints_and_the_figure_is_drawn(tmp_path):
    frames = calibrated_frames(30, up="z", world_from=0)
    with Recorder(tmp_path / "s.mcap", {"source": "synthetic"}) as rec:
        for frame in frames:
            rec.consume(frame)
    scenes, transforms = read_foxglove(rec.path)
    assert len(scenes) == 30
    for (stamp, scene), frame in zip(scenes, frames):
        if not frame.people:
            continue
        entity = scene.entities[0]
        centres = np.array([[s.pose.position.x, s.pose.position.y, s.pose.position.z] for s in entity.spheres])
        placed = to_display(centres, entity.frame_id, transforms[stamp], "world")
        np.testing.assert_allclose(placed, frame.person.joints_world, atol=2e-5)
    out = tmp_path / "scene.png"
    assert main([str(rec.path), "--out", str(out), "--moments", "2"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
