"""``run_batch`` in this process: every export of one photo, and a session that says how it was made."""
from __future__ import annotations

import numpy as np

from calibration.camera_file import CameraFile, save
from realtime.batch.run import run_batch
from realtime.batch.settings import FORMATS, OfflineSettings
from realtime.recording.session_reader import read_session


def test_a_photo_with_a_calibration_file_gives_every_export_and_metadata_naming_the_file(shared_dir, tmp_path):
    photo = shared_dir / "media" / "tfjs_models" / "pose.jpg"
    camera = np.array([[900.0, 0, 500.0], [0, 900.0, 333.5], [0, 0, 1]])
    calibration = save(CameraFile(camera, np.zeros(5), (1000, 667), 0.3), tmp_path / "cam.json")
    settings = OfflineSettings(calibration=str(calibration), formats=FORMATS)
    [outcome] = run_batch([str(photo)], str(tmp_path / "out"), settings, show_progress=False)
    assert outcome.status == "done" and (outcome.frames, outcome.frames_with_person) == (1, 1), outcome.error
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["pose.bvh", "pose.csv", "pose.json", "pose.mcap", "pose_ros2bag"]
    session = read_session(tmp_path / "out" / "pose.mcap")
    meta = session.metadata
    assert meta["mode"] == "offline" and meta["intrinsics"]["source"] == "file"
    assert meta["intrinsics"]["file"] == str(calibration) and meta["intrinsics"]["camera"]["fx"] == 900.0
    assert meta["smoothing"]["cutoff_hz"] == settings.smoothing.cutoff_hz and meta["bone_lengths"]["tracks"]
    assert session.frames[0].camera["calibrated"] is True
    [again] = run_batch([str(photo)], str(tmp_path / "out"), settings, show_progress=False)
    assert again.status == "skipped"
