"""Absolute position: the pelvis translation from 2D keypoints + root-relative 3D + intrinsics."""
from __future__ import annotations

import numpy as np
import pytest

from calibration.position import solve_root_translation
from calibration.stage import CalibrationStage
from tests.frames import frame_with
from tests.test_calibration.synthetic import DIST_TRUE, K_TRUE, SIZE, project, realistic_pose

TRANSLATIONS = [(0.0, 0.1, 2.5), (0.6, -0.2, 3.5), (-0.9, 0.3, 5.0), (1.2, 0.5, 4.5), (-0.4, 0.0, 1.8)]


def _stage() -> CalibrationStage:
    return CalibrationStage(K_TRUE, DIST_TRUE, SIZE, calibrated=True)


@pytest.mark.parametrize("seed", range(len(TRANSLATIONS)))
def test_translation_recovered_within_5cm_with_pixel_noise(seed):
    rng = np.random.default_rng(seed)
    pose, T = realistic_pose(seed), np.array(TRANSLATIONS[seed])
    keypoints = project(pose + T) + rng.normal(0.0, 1.5, (16, 2))     # distorted pixels, 1.5 px noise
    stage = _stage()
    fit = solve_root_translation(stage.normalised(keypoints), pose)
    assert fit.ok and fit.n_used == 16
    assert np.linalg.norm(fit.translation - T) < 0.05, (fit.translation, T)
    assert fit.rms * stage.focal < 4.0  # residual in pixels stays at the noise level


def test_lifter_like_pose_errors_and_an_outlier_joint_with_zero_confidence():
    rng = np.random.default_rng(7)
    pose, T = realistic_pose(7), np.array([0.4, 0.2, 4.0])
    keypoints = project(pose + T) + rng.normal(0.0, 1.0, (16, 2))
    keypoints[12] += (250.0, -180.0)                   # a wrong wrist detection...
    confidence = np.full(16, 0.9)
    confidence[12] = 0.0                               # ...that the detector flags
    lifted = pose + rng.normal(0.0, 0.015, pose.shape)  # 1.5 cm per-joint 3D error
    lifted -= lifted[0]
    stage = _stage()
    fit = solve_root_translation(stage.normalised(keypoints), lifted, confidence)
    assert fit.n_used == 15
    assert np.linalg.norm(fit.translation - T) < 0.05
    unweighted = solve_root_translation(stage.normalised(keypoints), lifted)
    assert np.linalg.norm(unweighted.translation - T) > np.linalg.norm(fit.translation - T)


def test_refinement_beats_the_linear_solution_and_translation_scales_with_the_pose():
    pose, T = realistic_pose(3), np.array([1.2, 0.4, 3.0])
    keypoints = project(pose + T)
    x = _stage().normalised(keypoints)
    refined = solve_root_translation(x, pose, refine_iters=5)
    assert np.linalg.norm(refined.translation - T) < 1e-4
    # a 10 % larger body explains the same image 10 % farther away
    bigger = solve_root_translation(x, 1.1 * pose)
    assert np.allclose(bigger.translation, 1.1 * T, atol=1e-3)


def test_too_few_joints_or_body_behind_camera_is_not_ok():
    pose = realistic_pose(0)
    x = _stage().normalised(project(pose + [0, 0, 3.0]))
    weights = np.zeros(16)
    weights[:2] = 1.0
    assert not solve_root_translation(x, pose, weights).ok
    nan_points = x.copy()
    nan_points[2:] = np.nan
    fit = solve_root_translation(nan_points, pose)
    assert not fit.ok and np.all(np.isnan(fit.translation))


def test_annotate_streams_the_translation_and_camera_header():
    pose, T = realistic_pose(1), np.array([-0.3, 0.1, 3.2])
    frame = frame_with(5, 0.0, image_size=SIZE, keypoints_2d=project(pose + T).astype(np.float32),
                  confidence=np.ones(16, np.float32), joints_3d=pose.astype(np.float32))
    _stage().annotate(frame)
    assert np.linalg.norm(frame.arrays["root_translation"] - T) < 0.01
    assert frame.camera["calibrated"] is True
    assert frame.person.position["ok"] and frame.person.position["rms_px"] < 0.5


def test_translation_from_real_mocap_poses(shared_dir):
    """Real CMU motion (shared/mocap) seen by the distorted webcam from 1.4 m up, 3.5 m away."""
    from semgcn.rigs import load_canonical

    clip = load_canonical(shared_dir / "mocap/cmu/All_BVH/subjects/002/002_03.bvh")
    joints_world = clip.joints[::10].astype(np.float64)              # y up, metres
    camera = joints_world[:, 0].mean(axis=0) * [1, 0, 1] + [0.4, 1.4, 3.5]
    to_camera = np.diag([1.0, -1.0, -1.0])                            # camera at +z looking toward -z
    rng = np.random.default_rng(11)
    stage = _stage()
    for pose_world in joints_world:
        cam = (pose_world - camera) @ to_camera.T
        keypoints = project(cam) + rng.normal(0.0, 1.5, (16, 2))
        fit = solve_root_translation(stage.normalised(keypoints), cam - cam[0])
        assert fit.ok and np.linalg.norm(fit.translation - cam[0]) < 0.05, (fit.translation, cam[0])
