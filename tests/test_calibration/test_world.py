"""Metric scale and the floor world frame: foot contacts, a board on the floor, y-up / z-up axes."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from calibration import camera_file
from calibration.__main__ import main
from calibration.boards import BoardSpec
from calibration.scale import BONE_SUM_PER_HEIGHT, bone_sum_for_height, canonical_pose, scale_to_height
from calibration.stage import CalibrationOptions, CalibrationStage
from calibration.world import FootContactFloor, world_frame_from_floor
from tests.frames import frame_with
from semgcn.skeleton import JOINT_INDEX, bone_lengths
from tests.test_calibration.synthetic import DIST_TRUE, K_TRUE, SIZE, project, realistic_pose, render_view

HEIGHT = 1.75
CAMERA_HEIGHT = 1.3
PITCH_DEG, ROLL_DEG = 20.0, 4.0


def _camera_from_world():
    """World y-up (x right, y up, z toward the camera) -> camera; camera 1.3 m up, pitched down, rolled."""
    pitch, roll = np.radians(PITCH_DEG), np.radians(ROLL_DEG)
    Rx = cv2.Rodrigues(np.array([pitch, 0, 0]))[0]  # looking down: the camera's z turns toward -y_world
    Rz = cv2.Rodrigues(np.array([0, 0, roll]))[0]
    return Rz @ Rx @ np.diag([1.0, -1.0, -1.0]), np.array([0.0, CAMERA_HEIGHT, 0.0])


def _standing_frames(n: int, seed: int, walk: bool = True):
    """Frames of a person whose ankles rest on the floor (world y = ankle height), seen by the camera."""
    R, centre = _camera_from_world()
    rng = np.random.default_rng(seed)
    frames, truths = [], []
    for i in range(n):
        pose_world = realistic_pose(seed * 1000 + i if walk else seed, HEIGHT) @ np.diag([1.0, -1.0, -1.0])
        lower_ankle = min(pose_world[JOINT_INDEX["right_ankle"], 1], pose_world[JOINT_INDEX["left_ankle"], 1])
        spot = [rng.uniform(-1.2, 1.2), 0.0, -rng.uniform(2.5, 5.0)] if walk else [0.3, 0.0, -3.5]
        root = np.array(spot) + [0.0, 0.039 * HEIGHT - lower_ankle, 0.0]
        joints_world = pose_world + root
        cam = (joints_world - centre) @ R.T
        keypoints = project(cam) + rng.normal(0.0, 1.0, (16, 2))
        frames.append(frame_with(i, 0.0, image_size=SIZE, keypoints_2d=keypoints.astype(np.float32),
                            confidence=np.ones(16, np.float32), joints_3d=(cam - cam[0]).astype(np.float32)))
        truths.append(joints_world)
    return frames, truths


def test_bone_length_calibration_matches_the_subject_height():
    assert 2.3 < BONE_SUM_PER_HEIGHT < 2.6
    pose = canonical_pose(1.62)
    assert np.ptp(pose[:, 1]) == pytest.approx((0.925 - 0.039) * 1.62, abs=1e-6)  # head centre to ankles
    lifted = realistic_pose(5) * 0.83
    factor = scale_to_height(lifted, 1.90)
    assert bone_lengths(lifted * factor).sum() == pytest.approx(bone_sum_for_height(1.90))
    stage = CalibrationStage(K_TRUE, DIST_TRUE, SIZE, True, CalibrationOptions(subject_height_m=1.90))
    frame = frame_with(0, 0.0, image_size=SIZE, keypoints_2d=project(lifted + [0, 0, 3]),
                  confidence=np.ones(16), joints_3d=lifted.astype(np.float32))
    stage.annotate(frame)
    assert bone_lengths(frame.joints_3d.astype(np.float64)).sum() == pytest.approx(bone_sum_for_height(1.90), rel=1e-5)
    assert frame.person.scale["factor"] == pytest.approx(factor)


@pytest.mark.parametrize("walk", [True, False], ids=["walking", "standing_still"])
def test_floor_from_foot_contacts_gives_a_y_up_world(walk):
    stage = CalibrationStage(K_TRUE, DIST_TRUE, SIZE, True, CalibrationOptions(subject_height_m=HEIGHT))
    frames, truths = _standing_frames(60, seed=1, walk=walk)
    for frame in frames:
        stage.annotate(frame)
    head = frames[-1].world_frame
    assert head["name"] == "floor" and head["up"] == "y" and head["source"] == ("foot_contacts" if walk else "body_up")
    assert head["camera_height_m"] == pytest.approx(CAMERA_HEIGHT, abs=0.05)
    world = frames[-1].arrays["joints_world"]
    # heights above the floor are what a game engine needs: pelvis and head within 5 cm
    for joint in ("pelvis", "head"):
        assert world[JOINT_INDEX[joint], 1] == pytest.approx(truths[-1][JOINT_INDEX[joint], 1], abs=0.05)
    # and the person's distance along the floor from the point below the camera
    assert np.hypot(world[0, 0], world[0, 2]) == pytest.approx(np.hypot(*truths[-1][0, [0, 2]]), abs=0.08)


def test_z_up_world_is_the_same_floor_with_other_axes():
    floor = camera_file.FloorPlane(np.array([0.0, -0.94, -0.342]), 1.3, "board")
    y_up, z_up = world_frame_from_floor(floor, "y"), world_frame_from_floor(floor, "z")
    points = np.array([[0.2, 0.5, 3.0], [-1.0, 1.0, 2.0]])
    py, pz = y_up.to_world(points), z_up.to_world(points)
    assert np.allclose(py[:, 1], pz[:, 2])            # height
    assert np.allclose(-py[:, 2], pz[:, 0])           # forward
    assert np.allclose(py[:, 0], -pz[:, 1])           # right = -left
    for frame in (y_up, z_up):
        assert np.allclose(frame.rotation @ frame.rotation.T, np.eye(3)) and np.linalg.det(frame.rotation) > 0
    with pytest.raises(ValueError, match="up must be"):
        world_frame_from_floor(floor, "x")


def test_too_few_contacts_give_no_floor():
    floor = FootContactFloor(min_contacts=30)
    frames, _ = _standing_frames(5, seed=2)
    for f in frames:
        floor.add(f.joints_3d)
    assert floor.estimate() is None


def test_board_on_the_floor_gives_metric_floor_scale_and_world(tmp_path):
    R, centre = _camera_from_world()
    board = BoardSpec.parse("7x5", 0.10)   # a large printed board on the floor (about 0.8 x 0.6 m)
    # board axes: x -> world x, y -> world -z (away from the camera), z -> world up
    R_world_board = np.column_stack([[1, 0, 0], [0, 0, -1], [0, 1, 0]]).astype(float)
    origin = np.array([-0.35, 0.0, -2.0])
    rvec = cv2.Rodrigues(R @ R_world_board)[0].ravel()
    tvec = R @ (origin - centre)
    cv2.imwrite(str(tmp_path / "floor.png"), render_view(board, rvec, tvec))
    cam_path = camera_file.save(camera_file.CameraFile(K_TRUE, DIST_TRUE, SIZE, 0.2), tmp_path / "cam.json")
    assert main(["floor", "--image", str(tmp_path / "floor.png"), "--calibration", str(cam_path),
                 "--board", "7x5", "--square", "0.10"]) == 0
    floor = camera_file.load(cam_path).floor
    assert floor.source == "board" and floor.offset_m == pytest.approx(CAMERA_HEIGHT, abs=0.01)
    true_up = R @ np.array([0.0, 1.0, 0.0])
    assert np.degrees(np.arccos(np.clip(floor.normal @ true_up, -1, 1))) < 0.5

    # no height given: the metric floor fixes the scale of a lifted body that is 20 % too small
    stage = CalibrationStage.from_file(cam_path, SIZE, CalibrationOptions(scale_mode="floor"))
    frames, truths = _standing_frames(40, seed=3)
    for frame in frames:
        frame.person.joints_3d = frame.joints_3d * np.float32(0.8)
        stage.annotate(frame)
    scale = frames[-1].person.scale
    assert scale["converged"] and scale["factor"] == pytest.approx(1.25, rel=0.03)
    assert scale["estimated_height_m"] == pytest.approx(HEIGHT, rel=0.03)
    assert frames[-1].world_frame["source"] == "board"
    assert frames[-1].arrays["joints_world"][0, 1] == pytest.approx(truths[-1][0, 1], abs=0.05)


def test_foot_contacts_can_be_chosen_over_a_board_floor():
    board_floor = camera_file.FloorPlane(np.array([0.0, -1.0, 0.0]), 2.0, "board")  # deliberately wrong
    stage = CalibrationStage(K_TRUE, DIST_TRUE, SIZE, True, CalibrationOptions(subject_height_m=HEIGHT,
                             world="foot_contacts"), floor=board_floor)
    frames, _ = _standing_frames(40, seed=4)
    for frame in frames:
        stage.annotate(frame)
    head = frames[-1].world_frame
    assert head["source"] == "foot_contacts" and head["camera_height_m"] == pytest.approx(CAMERA_HEIGHT, abs=0.05)
    stage.reset()
    frame = _standing_frames(1, seed=5)[0][0]
    stage.annotate(frame)
    assert "joints_world" not in frame.arrays and frame.world_frame["name"] is None
