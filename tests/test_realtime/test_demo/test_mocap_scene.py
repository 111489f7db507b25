"""The demo figure driven by motion capture: segment frames follow the bones, the rendered body is where
its ground truth says, and our BlazePose finds it there."""
from __future__ import annotations

import numpy as np
import pytest

from realtime.demo.kinematics import POSE_PARAMS, BodyShape, forward_kinematics
from realtime.demo.mocap_scene import MocapScene, random_camera, skeleton_from_joints, treadmill


def _clip(frames: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    poses = [forward_kinematics({k: rng.uniform(-0.3, 0.3) for k in POSE_PARAMS}, BodyShape(), 0.4,
                                np.array([0.5, 0.95, -0.2])).joints for _ in range(frames)]
    return np.stack(poses)


def test_segment_frames_are_rotations_along_the_bones():
    joints = _clip(1)[0]
    skeleton, stretch = skeleton_from_joints(joints)
    for name, (origin, rot) in skeleton.frames.items():
        np.testing.assert_allclose(rot.T @ rot, np.eye(3), atol=1e-9, err_msg=name)
        assert np.linalg.det(rot) == pytest.approx(1.0)
    origin, rot = skeleton.frames["l_thigh"]
    bone = joints[5] - joints[4]                                   # left hip -> left knee
    np.testing.assert_allclose(-rot[:, 1], bone / np.linalg.norm(bone), atol=1e-9)
    assert stretch["l_thigh"] == pytest.approx(np.linalg.norm(bone) / BodyShape().thigh)


def test_treadmill_keeps_the_pose_and_drops_the_walk():
    clip = _clip(3)
    held = treadmill(clip)
    np.testing.assert_allclose(held[:, 0, [0, 2]], 0.0, atol=1e-12)
    np.testing.assert_allclose(held - held[:, :1], clip - clip[:, :1], atol=1e-12)


def test_the_rendered_figure_is_found_where_its_truth_is():
    from engines.detector import PoseDetector

    scene = MocapScene(_clip(1), random_camera(np.random.default_rng(3)))
    frame = scene.render(0)
    assert frame.image.shape == (480, 640, 3) and frame.joints_3d[0].tolist() == [0.0, 0.0, 0.0]
    found = PoseDetector(threads=1).detect_image(frame.image)
    assert found is not None
    error = np.linalg.norm(found.keypoints_2d - frame.keypoints_2d, axis=-1)
    assert np.median(error) < 12.0                                  # pixels, on a 640 x 480 image
