"""The viewer's geometry and placement, no rendering: meshes on their segments, y-up placement,
world frames, intrinsics, the scene state's trail and follow."""
from __future__ import annotations


import numpy as np

from realtime.viewer.geometry import (SIDE_COLOURS, TRAIL_COLOUR, SkeletonStyle, frustum_lines, skeleton_mesh_arrays)
from realtime.viewer.scene import SceneOptions, SceneState, camera_intrinsics, place_frame
from semgcn.codec import default_intrinsics
from semgcn.skeleton import BONES, JOINT_INDEX as J, bone_side
from tests.test_realtime.test_viewer.viewer_fixtures import make_frame, t_pose


# ---------------------------------------------------------------- geometry and placement (no rendering)

def test_skeleton_mesh_puts_each_bone_cylinder_on_its_segment():
    joints = t_pose().astype(np.float64) * [1, -1, -1]
    style = SkeletonStyle()
    vertices, triangles, colours = skeleton_mesh_arrays(joints, style)
    assert triangles.max() < len(vertices) and len(colours) == len(vertices)
    from realtime.viewer.geometry import _cylinder_template
    n_cv = len(_cylinder_template(style.cylinder_resolution)[0])
    for k, (child, parent) in enumerate(BONES):
        a, b = joints[parent], joints[child]
        v = vertices[k * n_cv:(k + 1) * n_cv]
        seg = b - a
        s = np.clip((v - a) @ seg / (seg @ seg), 0, 1)
        dist = np.linalg.norm(v - (a + s[:, None] * seg), axis=1)
        on_wall = np.isclose(dist, style.bone_radius, atol=1e-6)
        on_cap_centre = np.isclose(dist, 0, atol=1e-6) & (np.isclose(s, 0) | np.isclose(s, 1))
        assert np.all(on_wall | on_cap_centre), f"bone {k} is off its segment"
        assert np.isclose(s.min(), 0, atol=1e-6) and np.isclose(s.max(), 1, atol=1e-6)
        assert np.allclose(colours[k * n_cv], SIDE_COLOURS[bone_side(child)])
    # A second pose keeps the topology (the live mesh only rewrites its vertices).
    _, triangles2, _ = skeleton_mesh_arrays(joints * 1.3, style)
    assert np.array_equal(triangles, triangles2)


def test_trail_is_a_tube_through_its_points_fading_in():
    from realtime.viewer.geometry import trail_mesh_arrays

    points = np.array([[0, 0, 0], [0.1, 0, 0], [0.1, 0.1, 0], [0.2, 0.2, 0.1]], float)
    vertices, triangles, colours = trail_mesh_arrays(points, radius=0.01)
    per_segment = len(vertices) // 3
    for k in range(3):
        seg = vertices[k * per_segment:(k + 1) * per_segment]
        a, b = points[k], points[k + 1]
        s = np.clip((seg - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
        assert np.linalg.norm(seg - (a + s[:, None] * (b - a)), axis=1).max() <= 0.01 + 1e-9
    brightness = colours[::per_segment].sum(axis=1)
    assert np.all(np.diff(brightness) > 0)  # the newest segment is the brightest
    assert np.allclose(colours[-1], TRAIL_COLOUR)
    assert len(trail_mesh_arrays(points[:1])[0]) == 0


def test_placement_flips_to_y_up_and_uses_root_translation():
    frame = make_frame(joints=t_pose())
    joints, (r, t) = place_frame(frame, SceneOptions(default_distance=2.5))
    assert np.allclose(joints[J["pelvis"]], [0, 0, -2.5])          # in front of the camera, which looks down -z
    assert joints[J["head"]][1] > joints[J["pelvis"]][1] > joints[J["left_ankle"]][1]  # y up
    assert joints[J["left_wrist"]][0] > 0                           # x stays right: no mirror
    assert np.isclose(np.linalg.det(r), 1.0)
    moved = make_frame(joints=t_pose(), root_translation=np.array([0.5, 0.2, 4.0], np.float32))
    joints, _ = place_frame(moved, SceneOptions())
    assert np.allclose(joints[J["pelvis"]], [0.5, -0.2, -4.0])


def test_world_coordinates_place_the_camera_by_the_rigid_fit():
    from scipy.spatial.transform import Rotation

    root = np.array([0.3, -0.1, 3.5])
    cam = t_pose().astype(np.float64) + root
    r_true = Rotation.from_euler("xyz", [100, 20, -30], degrees=True).as_matrix()  # camera -> z-up world
    t_true = np.array([1.0, -2.0, 1.4])
    world_z_up = cam @ r_true.T + t_true
    frame = make_frame(joints=t_pose(), root_translation=root.astype(np.float32),
                       joints_world=world_z_up.astype(np.float32))
    frame.world_frame = {"name": "floor", "up": "z"}
    joints, (r, t) = place_frame(frame, SceneOptions(coords="world"))
    to_y_up = np.array([[0, -1, 0], [0, 0, 1], [-1, 0, 0]])  # x forward, y left, z up -> x right, y up, z back
    assert np.allclose(joints, world_z_up @ to_y_up.T, atol=1e-5)
    assert np.allclose(cam @ r.T + t, joints, atol=1e-4)  # the fitted camera pose maps camera -> display
    # The calibration header's transform (p_world = R (p_cam - o)) is used when present.
    origin = -r_true.T @ t_true
    frame.world_frame.update(rotation_world_from_camera=r_true.tolist(), origin_in_camera_m=origin.tolist())
    frame.person.root_translation = None
    joints, (r, t) = place_frame(frame, SceneOptions(coords="world"))
    assert np.allclose(cam @ r.T + t, joints, atol=1e-5)
    # Without joints_world the world view falls back to the camera frame.
    joints, _ = place_frame(make_frame(joints=t_pose()), SceneOptions(coords="world"))
    assert np.allclose(joints[J["pelvis"]], [0, 0, -3.0])


def test_world_frames_of_the_calibration_stage_display_alike_for_y_up_and_z_up():
    from calibration.camera_file import FloorPlane
    from calibration.world import world_frame_from_floor

    tilt = np.radians(12.0)  # camera pitched down 12 degrees, 1.4 m above the floor
    normal = np.array([0.0, -np.cos(tilt), -np.sin(tilt)])
    floor = FloorPlane(normal=normal, offset_m=1.4, source="board")
    root = np.array([0.2, 0.5, 3.2])
    shown = {}
    for up in ("y", "z"):
        world = world_frame_from_floor(floor, up)
        frame = make_frame(joints=t_pose(), root_translation=root.astype(np.float32),
                           joints_world=world.to_world(t_pose() + root).astype(np.float32))
        frame.world_frame = world.header()
        joints, (r, t) = place_frame(frame, SceneOptions(coords="world"))
        assert np.allclose((t_pose() + root) @ r.T + t, joints, atol=1e-4)  # the camera placed by the header
        shown[up] = joints
    assert np.allclose(shown["y"], shown["z"], atol=1e-4)
    assert shown["y"][J["head"], 1] > shown["y"][J["pelvis"], 1]  # up is up


def test_intrinsics_come_from_the_header_else_the_lifters_default():
    frame = make_frame(joints=t_pose())
    focal, centre = default_intrinsics((640, 480))
    k = camera_intrinsics(frame)
    assert np.isclose(k[0, 0], focal) and np.allclose(k[:2, 2], centre)
    frame.header["camera_matrix"] = [[500, 0, 300], [0, 510, 250], [0, 0, 1]]
    assert np.allclose(camera_intrinsics(frame), frame.header["camera_matrix"])
    frame.header = {"calibration": {"camera_matrix": "garbage"}, "intrinsics": {"fx": 400, "fy": 410, "cx": 1, "cy": 2}}
    assert np.allclose(camera_intrinsics(frame), [[400, 0, 1], [0, 410, 2], [0, 0, 1]])
    frame.header, frame.camera = {}, {"calibrated": True, "fx": 600.0, "fy": 601.0, "cx": 322.0, "cy": 241.0}
    assert np.allclose(camera_intrinsics(frame), [[600, 0, 322], [0, 601, 241], [0, 0, 1]])
    points, _ = frustum_lines(k, (640, 480), depth=1.0)
    # The frustum's corner rays project back onto the image corners.
    uv = points[1:] @ k.T
    assert np.allclose(uv[:, :2] / uv[:, 2:], [[0, 0], [640, 0], [640, 480], [0, 480]])


def test_scene_state_trail_hide_and_smooth_follow():
    state = SceneState(SceneOptions(trail_joint="right_wrist", trail_seconds=1.0, follow_time_constant=0.5))
    t0 = 1000.0
    for i in range(40):  # 40 frames at 20 fps: the trail keeps the last second only
        f = make_frame(i, t_pose())
        f.t_capture = t0 + i / 20
        state.update(f)
    assert 20 <= len(state.trail_points()) <= 21
    floor = state.floor_y
    assert np.isclose(floor, -0.88 - 0.08)  # just below the ankles (display y up)
    jump = make_frame(40, t_pose(), root_translation=np.array([0.0, -0.4, 3.0], np.float32))
    jump.t_capture = t0 + 2.0
    state.update(jump)
    state.step(1.0)
    assert np.isclose(state.floor_y, floor)  # a jump does not lift the floor
    far = make_frame(41, t_pose(), root_translation=np.array([2.0, 0.0, 3.0], np.float32))
    far.t_capture = t0 + 2.05
    state.update(far)
    before = state.look_at.copy()
    state.step(0.1)  # a jump of 2 m is followed gradually, not at once
    moved = np.linalg.norm(state.look_at - before)
    assert 0.2 < moved < 0.5
    kept = len(state.trail_points())
    state.update(make_frame(42, None))  # a dropout hides the skeleton but keeps the trail ...
    assert state.joints is None and len(state.trail_points()) == kept
    back = make_frame(43, t_pose())
    back.t_capture = t0 + 5.0
    state.update(back)  # ... whose points age out by capture time
    assert len(state.trail_points()) == 1
