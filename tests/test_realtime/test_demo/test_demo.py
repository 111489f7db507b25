"""The built-in demo source: determinism, ground truth consistency, framing, motion and detectability."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.demo import DemoFrame, DemoScene
from realtime.demo.background import room_background
from realtime.demo.motion import LOOP_SECONDS
from realtime.demo.render import FigureRenderer, Lighting
from realtime.demo.scene import view_yaw_deg
from semgcn.skeleton import BONES, JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, bone_lengths

FPS = 30.0
#: Frames spread over the motion loop: front march, wave, squat in 3/4 view, side view with raised
#: arms, back view during the turn, look-around.
SPREAD = (0, 315, 450, 540, 900, 990)
CUBE = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)


@pytest.fixture(scope="module")
def scene() -> DemoScene:
    return DemoScene(width=640, height=480, fps=FPS, seed=0, hfov_deg=60.0)


@pytest.fixture(scope="module")
def loop_states(scene):
    """World skeletons over one whole loop at 30 fps (kinematics only, no rendering)."""
    n = int(LOOP_SECONDS * FPS) + 2
    return np.array([scene.motion.state_at(i / FPS).skeleton.joints for i in range(n)])


def test_frame_fields_shapes_and_types(scene):
    f = scene.render(7)
    assert isinstance(f, DemoFrame)
    assert f.image.shape == (480, 640, 3) and f.image.dtype == np.uint8
    assert f.keypoints_2d.shape == (NUM_JOINTS, 2) and f.keypoints_2d.dtype == np.float32
    assert f.joints_3d.shape == (NUM_JOINTS, 3) and f.joints_3d.dtype == np.float32
    assert f.root_translation.shape == (3,) and f.root_translation.dtype == np.float32
    assert f.camera_matrix.shape == (3, 3) and f.camera_matrix.dtype == np.float64
    assert f.t == pytest.approx(7 / FPS)
    assert scene.image_size == (640, 480)
    np.testing.assert_allclose(scene.camera_matrix, f.camera_matrix)
    # 60 degree horizontal field of view, principal point at the image centre.
    assert scene.camera_matrix[0, 0] == pytest.approx(320.0 / np.tan(np.radians(30.0)))
    assert tuple(scene.camera_matrix[:2, 2]) == (320.0, 240.0)


def test_render_is_deterministic_per_seed_and_index(scene):
    other = DemoScene(seed=0)
    a, b = scene.render(123), other.render(123)
    assert np.array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.keypoints_2d, b.keypoints_2d)
    np.testing.assert_array_equal(a.joints_3d, b.joints_3d)
    assert not np.array_equal(scene.render(124).keypoints_2d, a.keypoints_2d)  # it moves
    assert not np.array_equal(DemoScene(seed=1).render(123).image, a.image)    # seeds differ


def test_ground_truth_projects_onto_keypoints(scene):
    for index in SPREAD:
        f = scene.render(index)
        assert np.all(f.joints_3d[JOINT_INDEX["pelvis"]] == 0.0)
        points = (f.joints_3d + f.root_translation).astype(np.float64)
        projected, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), f.camera_matrix, None)
        np.testing.assert_allclose(f.keypoints_2d, projected[:, 0, :], atol=1e-3)


def test_skeleton_semantics_match_shared_skeleton(scene):
    f = scene.render(0)
    j = f.joints_3d
    mid = lambda a, b: 0.5 * (j[JOINT_INDEX[a]] + j[JOINT_INDEX[b]])  # noqa: E731
    np.testing.assert_allclose(j[JOINT_INDEX["pelvis"]], mid("left_hip", "right_hip"), atol=1e-6)
    np.testing.assert_allclose(j[JOINT_INDEX["thorax"]], mid("left_shoulder", "right_shoulder"), atol=1e-6)
    np.testing.assert_allclose(j[JOINT_INDEX["spine"]], mid("pelvis", "thorax"), atol=1e-6)
    # head = the centre of the head at ear level: the midpoint of the figure's two ears.
    state = scene.motion.state_at(0.0)
    prims = scene.figure.place(state.skeleton)
    ears = [i for i, part in enumerate(scene.figure.parts) if part.name in ("left_ear", "right_ear")]
    assert len(ears) == 2
    np.testing.assert_allclose(prims.centres[ears].mean(axis=0), state.skeleton.joints[JOINT_INDEX["head"]],
                               atol=1e-9)
    # Frame 0 faces the camera: the subject's left is on the image's right; the head is up (y down).
    assert f.keypoints_2d[JOINT_INDEX["left_shoulder"], 0] > f.keypoints_2d[JOINT_INDEX["right_shoulder"], 0]
    assert j[JOINT_INDEX["head"], 1] < j[JOINT_INDEX["thorax"], 1] < 0.0 < j[JOINT_INDEX["left_ankle"], 1]
    assert abs(f.view_yaw_deg) < 10.0


def test_bone_lengths_are_adult_and_rigid(loop_states):
    lengths = bone_lengths(loop_states)                      # (T, 15)
    expected = {"right_knee": 0.43, "right_ankle": 0.43, "left_knee": 0.43, "left_ankle": 0.43,
                "left_elbow": 0.29, "right_elbow": 0.29, "left_wrist": 0.255, "right_wrist": 0.255}
    for i, (child, _) in enumerate(BONES):
        joint = JOINT_NAMES[child]
        assert 0.05 < lengths[:, i].min() and lengths[:, i].max() < 0.6, joint
        if joint in expected:  # limb bones are rigid
            np.testing.assert_allclose(lengths[:, i], expected[joint], atol=1e-9)
    # Standing height: ankles at ~8.5 cm, head centre (ear level) ~1.58 m above the floor.
    first = loop_states[0]
    assert 1.5 < first[JOINT_INDEX["head"], 1] < 1.7
    assert 0.06 < first[JOINT_INDEX["left_ankle"], 1] < 0.12


def test_motion_is_smooth_and_loops(loop_states):
    step = np.linalg.norm(np.diff(loop_states, axis=0), axis=-1)       # metres per frame
    assert step.max() < 0.12, "a joint jumps (> 3.6 m/s at 30 fps)"
    accel = np.linalg.norm(np.diff(loop_states, n=2, axis=0), axis=-1)
    assert accel.max() < 0.03, "a joint's velocity jumps: a cross-fade or the loop seam is broken"
    assert step.mean() > 0.005, "the figure hardly moves"


@pytest.mark.parametrize("width, height, hfov, seed, max_distance", [
    (640, 480, 60.0, 0, 4.0), (640, 480, 60.0, 1, 4.0), (640, 480, 60.0, 2, 4.0),
    (960, 540, 60.0, 0, 4.6),    # 16:9: the camera backs off to keep raised hands in frame
    (640, 480, 45.0, 3, 4.8),    # long lens: the same
])
def test_figure_stays_in_frame_at_the_right_distance(width, height, hfov, seed, max_distance):
    scene = DemoScene(width=width, height=height, hfov_deg=hfov, seed=seed)
    assert 1.2 <= scene.camera.position[1] <= 1.6
    for index in range(0, int(LOOP_SECONDS * FPS), 20):
        state = scene.motion.state_at(index / FPS)
        prims = scene.figure.place(state.skeleton)
        # Every body part's bounding cube (half side = its largest radius) projects inside the image.
        corners = prims.centres[:, None, :] + CUBE[None] * prims.radii.max(axis=1)[:, None, None]
        px = scene.camera.project(scene.camera.to_camera(corners.reshape(-1, 3)))
        assert px[:, 0].min() > 0 and px[:, 0].max() < width, index
        assert px[:, 1].min() > 0 and px[:, 1].max() < height, index
        root = scene.camera.to_camera(state.skeleton.joints[0])
        assert 2.5 <= np.linalg.norm(root) <= max_distance, index
        # On the floor: the lowest body part touches y = 0.
        low = prims.centres[:, 1] - np.sqrt(np.sum((prims.axes[:, 1, :] * prims.radii) ** 2, axis=1))
        assert low.min() == pytest.approx(0.0, abs=1e-9)


def test_views_vary_and_the_face_points_where_the_figure_looks(scene):
    yaws, face_z = [], []
    for index in range(0, int(LOOP_SECONDS * FPS), 6):
        state = scene.motion.state_at(index / FPS)
        yaws.append(abs(view_yaw_deg(scene.camera, state)))
        head_forward_world = state.skeleton.frames["head"][1][:, 2]   # the face's direction
        face_z.append(scene.camera.directions_to_camera(head_forward_world)[2])
    yaws, face_z = np.array(yaws), np.array(face_z)
    assert (yaws < 30).mean() > 0.3                     # mostly front / three-quarter
    assert ((yaws > 70) & (yaws < 110)).any()           # side views
    assert 0.0 < (yaws > 135).mean() < 0.2              # some back views, not mostly
    # Camera z points away from the camera: a face turned to the camera has a negative z component.
    assert np.all(face_z[yaws < 30] < -0.6) and np.all(face_z[yaws > 150] > 0.6)
    assert scene.render(900).view_yaw_deg == pytest.approx(view_yaw_deg(scene.camera, scene.motion.state_at(30.0)))


def test_image_shows_a_figure_over_a_varied_background(scene):
    background = room_background(scene.camera)
    assert background.std() > 20.0                        # a room, not a blank page
    f = scene.render(0)
    prims = scene.figure.place(scene.motion.state_at(0.0).skeleton)
    no_shadow = FigureRenderer(scene.camera, background, Lighting(shadow_strength=0.0)).render(prims)
    changed = np.abs(no_shadow.astype(int) - background.astype(int)).max(axis=2) > 25
    ys, xs = np.nonzero(changed)
    lo, hi = f.keypoints_2d.min(axis=0), f.keypoints_2d.max(axis=0)
    assert changed.sum() > 8000                          # a person-sized area is drawn
    assert xs.min() > lo[0] - 40 and xs.max() < hi[0] + 40  # ... around the ground truth
    assert ys.min() > lo[1] - 60 and ys.max() < hi[1] + 30
    # Shaded, not flat: the figure's pixels have many distinct colours.
    assert len(np.unique(no_shadow[changed].reshape(-1, 3), axis=0)) > 500
    # The floor shadow darkens some floor pixels next to the figure.
    darker = (no_shadow.astype(int) - f.image.astype(int)).sum(axis=2) > 30
    assert darker.sum() > 500 and darker[changed].mean() < 0.05  # (edge pixels blend with it)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        DemoScene(width=10, height=480)
    with pytest.raises(ValueError, match="fps"):
        DemoScene(fps=0.0)


def _check_detector(detect, scene, tolerance_px: float, joint_tolerance_px: float) -> list[float]:
    medians = []
    for index in SPREAD:
        f = scene.render(index)
        keypoints = detect(f.image)
        assert keypoints is not None, f"nobody found in demo frame {index} ({f.action}, yaw {f.view_yaw_deg:.0f})"
        err = np.linalg.norm(keypoints - f.keypoints_2d, axis=1)
        assert np.median(err) < tolerance_px, (index, err)
        assert err.max() < joint_tolerance_px, (index, err)
        medians.append(float(np.median(err)))
    return medians


def test_mediapipe_pose_finds_the_figure(scene):
    mp = pytest.importorskip("mediapipe")
    from engines.blazepose.mapping import blazepose_to_canonical

    # Measured on these frames (static images): median error 1.9-7.4 px, worst joint 17.6 px.
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        def detect(image):
            result = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            if result.pose_landmarks is None:
                return None
            lm = np.array([[p.x * 640, p.y * 480] for p in result.pose_landmarks.landmark], np.float32)
            return blazepose_to_canonical(lm)[0]

        _check_detector(detect, scene, tolerance_px=12.0, joint_tolerance_px=35.0)


def test_project_detector_finds_the_figure(scene):
    detector_module = pytest.importorskip("engines.detector")
    det = detector_module.PoseDetector(backend="onnxruntime")

    def detect(image):
        result = det.detect_image(image)
        return None if result is None else result.keypoints_2d

    _check_detector(detect, scene, tolerance_px=12.0, joint_tolerance_px=35.0)
