"""python -m tools.export_session SESSION --to ros2bag: the bag folder beside the session by default,
one line and exit status 1 when it cannot be written."""
from __future__ import annotations

import pytest

pytest.importorskip("rosbags", reason="the ROS 2 bag export needs rosbags (pip install -r requirements.txt)")

from realtime.recording.recorder import Recorder  # noqa: E402
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames  # noqa: E402
from tools.export_session import main  # noqa: E402


def test_the_cli_writes_a_bag_folder_and_refuses_to_overwrite_one(tmp_path, capsys):
    with Recorder(tmp_path / "walk.mcap", {"source": "synthetic"}) as rec:
        for parts in encoded(synthetic_frames(30)):
            rec.write(parts)
    assert main([str(rec.path), "--to", "ros2bag", "--ros2-frame", "camera"]) == 0
    bag = tmp_path / "walk_ros2bag"
    assert (bag / "metadata.yaml").is_file() and len(list(bag.glob("*.mcap"))) == 1
    assert f"wrote {bag} (30 frames" in capsys.readouterr().out
    assert main([str(rec.path), "--to", "ros2bag"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists already" in err[0]
