"""Detection where tracking is unsure, on the real detector: a lost pose found again, a present one kept."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.detector import PoseDetector
from realtime.batch.redetect import EveryFrameDetector, RedetectingDetector, mean_confidence


@pytest.fixture(scope="module")
def frames(shared_dir):
    cap = cv2.VideoCapture(str(shared_dir / "media" / "tfjs_models" / "pose_1.mp4"))
    return [cap.read()[1] for _ in range(12)]


def _track(detector, frames):
    """Each frame's people through ``track`` (the single-person ``__call__`` where a detector has no ``track``)."""
    if hasattr(detector, "track"):
        return [detector.track(frame, i / 30.0) for i, frame in enumerate(frames)]
    return [[d] if (d := detector(frame, timestamp=i / 30.0)) is not None else [] for i, frame in enumerate(frames)]


def test_a_pose_tracking_loses_is_found_again_by_the_person_detector_and_followed_from_there(frames):
    moved = frames[:10] + [np.roll(frames[10], 180, axis=1), np.roll(frames[11], 180, axis=1)]  # the camera jerks
    plain = _track(PoseDetector(threads=1, smoothing=False), moved)
    checked = RedetectingDetector(PoseDetector(threads=1, smoothing=False))
    found = _track(checked, moved)
    assert plain[10] == []  # the tracked crop stayed where the person was: lost
    assert len(found[10]) == 1 and mean_confidence(found[10][0]) > 0.9
    if hasattr(found[9][0], "track_id"):  # a detector that numbers its tracks (issue 14)
        assert found[10][0].track_id != found[9][0].track_id  # a new track, re-seeded from the detection...
    assert len(found[11]) == 1 and found[11][0].detected is False  # ...which tracking then follows
    assert checked.counts.as_dict() == {"checked": 1, "replaced": 1, "lost": 1, "weak": 0, "jump": 0}
    for a, b in zip(plain[:10], found[:10]):  # where tracking was sure, nothing changed
        np.testing.assert_array_equal(a[0].keypoints_2d, b[0].keypoints_2d)


def test_nobody_stays_nobody_and_is_checked_once(frames):
    checked = RedetectingDetector(PoseDetector(threads=1, smoothing=False))
    black = np.zeros_like(frames[0])
    found = _track(checked, frames[:3] + [black, black])
    assert found[3] == found[4] == [] and checked.counts.checked == 1 and checked.counts.replaced == 0


def test_without_tracking_every_frame_is_its_own_detection(frames):
    every = EveryFrameDetector(PoseDetector(threads=1))
    found = _track(every, frames[:3])
    single = PoseDetector(threads=1).detect_image(frames[2])
    assert all(len(f) == 1 and f[0].track_id == 0 and f[0].detected for f in found)
    np.testing.assert_array_equal(found[2][0].keypoints_2d, single.keypoints_2d)
