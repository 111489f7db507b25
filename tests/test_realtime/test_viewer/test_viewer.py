"""The Open3D viewer: geometry and placement, offscreen pixels, the receiving loop on real sockets,
the headless live window, and the snapshot CLI (stream, recorded session, bad input).

Rendering uses Open3D's legacy Visualizer, which falls back to EGL (Mesa) offscreen when there is no
display, so these tests need Debian's libegl1, libgl1, libgl1-mesa-dri (and libusb-1.0-0 for Open3D).
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import zmq

from realtime.viewer.geometry import (BACKGROUND_COLOUR, FRUSTUM_COLOUR, JOINT_COLOUR, SIDE_COLOURS, TRAIL_COLOUR,
                                      SkeletonStyle, frustum_lines, skeleton_mesh_arrays)
from realtime.viewer.camera import look_at_view
from realtime.viewer.receiver import StreamReceiver, StreamStats
from realtime.viewer.render import render_frame_to_image
from realtime.viewer.scene import SceneOptions, SceneState, camera_intrinsics, place_frame
from realtime.core.records import FrameResult, PersonPose
from realtime.stream.wire import encode
from tests.conftest import REPO
from semgcn.codec import default_intrinsics
from semgcn.skeleton import BONES, JOINT_INDEX as J, bone_side



def t_pose() -> np.ndarray:
    """A standing T-pose facing the camera: camera frame (x right, y down), pelvis at the origin."""
    p = np.zeros((16, 3))
    p[J["right_hip"]], p[J["left_hip"]] = (-0.13, 0.0, 0.0), (0.13, 0.0, 0.0)
    p[J["right_knee"]], p[J["left_knee"]] = (-0.15, 0.45, 0.0), (0.15, 0.45, 0.0)
    p[J["right_ankle"]], p[J["left_ankle"]] = (-0.16, 0.88, 0.04), (0.16, 0.88, 0.04)
    p[J["spine"]], p[J["thorax"]], p[J["head"]] = (0.0, -0.24, 0.0), (0.0, -0.50, 0.0), (0.0, -0.72, -0.02)
    p[J["right_shoulder"]], p[J["left_shoulder"]] = (-0.19, -0.47, 0.0), (0.19, -0.47, 0.0)
    p[J["right_elbow"]], p[J["left_elbow"]] = (-0.46, -0.47, 0.0), (0.46, -0.47, 0.0)
    p[J["right_wrist"]], p[J["left_wrist"]] = (-0.72, -0.47, 0.0), (0.72, -0.47, 0.0)
    return p.astype(np.float32)


def make_frame(index=0, joints=None, root_translation=None, joints_world=None) -> FrameResult:
    people = [] if joints is None else [PersonPose(joints_3d=joints, root_translation=root_translation,
                                                   joints_world=joints_world)]
    return FrameResult(frame_index=index, t_capture=time.time(), image_size=(640, 480), source="test", people=people)


def classify(rgb) -> str:
    """Which palette entry a pixel shows: by brightness (background) and hue (bone sides, joints)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    if c.max() < 0.25:
        return "background"
    palette = dict(SIDE_COLOURS, joint=JOINT_COLOUR, frustum=FRUSTUM_COLOUR, trail=TRAIL_COLOUR)
    norm = c / c.max()
    return min(palette, key=lambda k: np.linalg.norm(norm - np.asarray(palette[k]) / max(palette[k])))


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


# ---------------------------------------------------------------- offscreen pixels

def test_render_shows_bone_colours_where_the_bones_project_and_background_elsewhere():
    frame = make_frame(joints=t_pose())
    width, height = 480, 360
    pelvis = np.array([0.0, 0.0, -3.0])
    view = look_at_view(pelvis + [0.8, 0.3, 3.2], pelvis + [0, 0.1, 0], width, height, fov_deg=45)
    image = render_frame_to_image(frame, width, height, camera_view=view, show_grid=False, show_frustum=False)
    assert image.shape == (height, width, 3) and image.dtype == np.uint8

    joints, _ = place_frame(frame, SceneOptions())
    for k, (child, parent) in enumerate(BONES):
        u, v = np.round(view.project((joints[[child]] + joints[[parent]]) / 2)[0]).astype(int)
        assert 0 <= u < width and 0 <= v < height
        seen = classify(image[v, u])
        assert seen == bone_side(child), f"bone {k} ({child}-{parent}) at ({u},{v}) shows {seen} {image[v, u]}"
    for j, (u, v) in enumerate(np.round(view.project(joints)).astype(int)):
        assert classify(image[v, u]) == "joint", f"joint {j} at ({u},{v}) shows {image[v, u]}"

    background = np.round(np.asarray(BACKGROUND_COLOUR) * 255)
    for v, u in [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]:
        assert np.abs(image[v, u] - background).max() <= 2
    # Away from every projected bone (30 px or more), only background is drawn.
    samples = view.project(np.concatenate([joints[p] + np.linspace(0, 1, 20)[:, None] * (joints[c] - joints[p])
                                           for c, p in BONES]))
    vv, uu = np.mgrid[0:height:7, 0:width:7]
    far = np.min(np.hypot(uu[..., None] - samples[:, 0], vv[..., None] - samples[:, 1]), axis=-1) > 30
    assert far.sum() > 1000
    assert np.abs(image[vv[far], uu[far]].astype(int) - background).max() <= 2


def test_render_with_grid_frustum_and_hud_still_shows_the_skeleton():
    image = render_frame_to_image(make_frame(joints=t_pose()), 320, 240, hud_text="frame 0\nlegend")
    labels = [classify(p) for p in image[::3, ::3].reshape(-1, 3)]
    for side in ("left", "right", "centre", "joint"):
        assert labels.count(side) > 5, side
    # The HUD text is bright at the top-left, where nothing else is drawn.
    assert image[:40, :120].max() > 200


# ---------------------------------------------------------------- receiving on real sockets

def _bind_pub(ctx, address=None):
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    if address is None:
        port = pub.bind_to_random_port("tcp://127.0.0.1")
        address = f"tcp://127.0.0.1:{port}"
    else:
        pub.bind(address)
    return pub, address


def _receive_until(receiver, pub, message, deadline_s=5.0):
    """Send ``message`` until the receiver decodes a frame (PUB/SUB drops until the link is up)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pub.send_multipart(message)
        frame = receiver.poll(timeout_s=0.05)
        if frame is not None:
            return frame
    raise AssertionError("no frame received within the deadline")


def test_receiver_skips_malformed_messages_and_survives_a_publisher_restart():
    ctx = zmq.Context()
    pub, address = _bind_pub(ctx)
    logged: list[str] = []
    receiver = StreamReceiver(address, log=logged.append)
    try:
        assert _receive_until(receiver, pub, encode(make_frame(1, t_pose()))).frame_index == 1
        bad_header = [b"pose", b"{not json", b""]
        good = encode(make_frame(2, t_pose()))
        wrong_shape = encode(make_frame(3, t_pose()))
        wrong_shape[2] = wrong_shape[2][:10]
        for message in (bad_header, bad_header, wrong_shape, good):
            pub.send_multipart(message)
        time.sleep(0.3)
        frames = receiver.poll_all(timeout_s=1.0)
        assert [f.frame_index for f in frames] == [2]
        assert receiver.malformed == 3
        assert len(logged) == 2 and "not UTF-8 JSON" in logged[0]  # each distinct reason once

        pub.close()  # the publisher goes away ...
        stats = StreamStats(stale_after_s=1.0)
        stats.add(frames[-1], now=100.0)
        assert "waiting for stream" in stats.status_text(address, now=101.5)
        assert receiver.poll(timeout_s=0.2) is None
        pub, _ = _bind_pub(ctx, address)  # ... and comes back on the same address
        frame = _receive_until(receiver, pub, encode(make_frame(100, t_pose())))
        assert frame.frame_index == 100 and frame.has_person
    finally:
        receiver.close()
        pub.close()
        ctx.term()


def test_receiver_hands_over_only_the_newest_of_queued_frames():
    ctx = zmq.Context()
    pub, address = _bind_pub(ctx)
    receiver = StreamReceiver(address)
    try:
        _receive_until(receiver, pub, encode(make_frame(0, t_pose())))
        for i in range(1, 6):
            pub.send_multipart(encode(make_frame(i, t_pose())))
        time.sleep(0.3)
        skipped = receiver.skipped
        assert receiver.poll(timeout_s=1.0).frame_index == 5
        assert receiver.skipped - skipped == 4
    finally:
        receiver.close()
        pub.close()
        ctx.term()


# ---------------------------------------------------------------- live window (EGL, no display) and CLI

class _Publisher(threading.Thread):
    """Publishes the T-pose at ~30 fps on a random loopback port until stopped (at ``root`` if set)."""

    def __init__(self, person=True):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.pub, self.address = _bind_pub(self.ctx)
        self.person, self.stop, self.root = person, threading.Event(), None

    def run(self):
        i = 0
        while not self.stop.is_set():
            root = None if self.root is None else np.asarray(self.root, np.float32)
            self.pub.send_multipart(encode(make_frame(i, t_pose() if self.person else None, root)))
            i += 1
            time.sleep(1 / 30)
        self.pub.close()
        self.ctx.term()


def test_live_window_draws_the_stream_shows_status_and_hides_nobody():
    from realtime.viewer.window import LiveViewer, WindowOptions

    publisher = _Publisher()
    publisher.start()
    viewer = LiveViewer(WindowOptions(connect=publisher.address, width=320, height=240))
    try:
        viewer.open()
        from realtime.viewer.camera import current_view

        # The view turns around the subject: following it to where it already is moves nothing.
        opened = current_view(viewer.vis).extrinsic
        viewer.vis.get_view_control().set_lookat(viewer.state.look_at)
        assert np.allclose(current_view(viewer.vis).extrinsic, opened, atol=1e-6)
        end = time.monotonic() + 10
        while viewer.frames_drawn < 5 and time.monotonic() < end:
            assert viewer.step()
        assert viewer.frames_drawn >= 5
        assert "fps" in viewer.status_text() and "waiting" not in viewer.status_text()
        labels = [classify(p) for p in (viewer.capture()[::2, ::2] * 255).reshape(-1, 3)]
        assert labels.count("left") > 5 and labels.count("right") > 5

        # The user orbits; the subject walks 1.5 m: the view follows, keeping the user's orbit.
        start = current_view(viewer.vis).extrinsic
        viewer.vis.get_view_control().rotate(150.0, 40.0)
        viewer.step()
        before = current_view(viewer.vis).extrinsic
        assert not np.allclose(before[:3, :3], start[:3, :3], atol=1e-3)  # the orbit did turn the view
        publisher.root = (1.5, 0.0, 3.0)
        follow_end = time.monotonic() + 3
        while np.linalg.norm(viewer.state.look_at - [1.5, 0, -3]) > 0.05 and time.monotonic() < follow_end:
            viewer.step()
        after = current_view(viewer.vis).extrinsic
        assert np.linalg.norm(viewer.state.look_at - [1.5, 0, -3]) <= 0.05
        assert np.allclose(after[:3, :3], before[:3, :3], atol=1e-6)   # same viewing direction ...
        eye_shift = (-after[:3, :3].T @ after[:3, 3]) - (-before[:3, :3].T @ before[:3, 3])
        assert 1.3 < np.linalg.norm(eye_shift) < 1.7                      # ... carried along with the subject

        publisher.person = False  # nobody in view: the skeleton is hidden
        drawn = viewer.frames_drawn
        while viewer.frames_drawn < drawn + 3 and time.monotonic() < end:
            viewer.step()
        assert viewer.state.joints is None and "nobody in view" in viewer.status_text()
        labels = [classify(p) for p in (viewer.capture()[::2, ::2] * 255).reshape(-1, 3)]
        assert labels.count("left") == 0 and labels.count("right") == 0

        publisher.stop.set()  # the stream stops: after a second the view says it is waiting
        publisher.join()
        stop_at = time.monotonic()
        while time.monotonic() - stop_at < 1.3:
            viewer.step()
        assert "waiting for stream" in viewer.status_text()
        viewer.vis.close()  # what the window's close button and the Q / Esc keys do
        assert viewer.step() is False
    finally:
        publisher.stop.set()
        viewer.close()


def test_cli_snapshot_from_a_live_stream(tmp_path):
    publisher = _Publisher()
    publisher.start()
    out = tmp_path / "snap.png"
    try:
        result = subprocess.run([sys.executable, "-m", "realtime.viewer", "--connect", publisher.address,
                                 "--snapshot", str(out), "--timeout", "20", "--width", "320", "--height", "240",
                                 "--trail", "right_wrist", "--snapshot-delay", "0.3"],
                                cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        publisher.stop.set()
    assert result.returncode == 0, result.stderr
    import cv2

    image = cv2.imread(str(out))[..., ::-1]
    assert image.shape == (240, 320, 3)
    labels = [classify(p) for p in image[::2, ::2].reshape(-1, 3)]
    assert labels.count("left") > 5 and labels.count("right") > 5 and labels.count("centre") > 5


def test_cli_snapshot_without_a_publisher_says_so(tmp_path, capsys):
    from realtime.viewer.cli import EXIT_NO_FRAME, main

    with zmq.Context() as ctx:
        _, address = _bind_pub(ctx)  # a port nobody publishes on once this socket closes
    code = main(["--connect", address, "--snapshot", str(tmp_path / "x.png"), "--timeout", "0.3"])
    assert code == EXIT_NO_FRAME
    assert "no frame from" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    assert main(["--connect", "tcp://no such host", "--snapshot", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "cannot connect" in err and len(err.strip().splitlines()) == 1


def test_cli_snapshot_from_a_recorded_session(tmp_path, capsys):
    from realtime.recording.recorder import Recorder
    from realtime.viewer.cli import main

    path = tmp_path / "s.mcap"
    with Recorder(path, metadata={"source": "test"}) as recorder:
        recorder.consume(make_frame(0, None))
        for i in range(1, 30):
            frame = make_frame(i, t_pose())
            frame.t_capture = 1000.0 + i / 30
            recorder.consume(frame)
    out = tmp_path / "s.png"
    assert main(["--session", str(path), "--snapshot", str(out), "--width", "320", "--height", "240",
                 "--trail", "left_wrist"]) == 0
    assert "frame 1" in capsys.readouterr().out  # the first frame with a person
    import cv2

    labels = [classify(p) for p in cv2.imread(str(out))[::2, ::2, ::-1].reshape(-1, 3)]
    assert labels.count("left") > 5 and labels.count("right") > 5
    assert main(["--session", str(path), "--snapshot", str(out), "--frame", "99"]) == 1
    assert "outside" in capsys.readouterr().err
    broken = tmp_path / "broken.mcap"
    broken.write_bytes(b"this is not a session")
    assert main(["--session", str(broken), "--snapshot", str(out)]) == 1
    err = capsys.readouterr().err
    assert "cannot read session" in err and len(err.strip().splitlines()) == 1


def test_cli_live_mode_without_a_display_says_so(monkeypatch, capsys):
    from realtime.viewer.cli import main

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux (X11 / Wayland)")
    assert main(["--connect", "tcp://127.0.0.1:9"]) == 1
    assert "no display" in capsys.readouterr().err
