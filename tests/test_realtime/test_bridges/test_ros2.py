"""ROS 2 output, end to end: run_live.py --ros2 (and the bridge's own command line) publishing to a real
rclpy subscriber in this test, with RViz's default QoS and with the sensor-data QoS; the joints equal
the ZeroMQ stream's for the same frames; markers are deleted when the person leaves the picture."""
from __future__ import annotations

import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
import zmq

pytest.importorskip("rclpy", reason="the ROS 2 tests need the ROS 2 wheels: pip install -r requirements-ros2.txt")

from realtime.core.skeleton_scene import SceneBuilder  # noqa: E402
from realtime.core.skeleton_stage import skeleton_from_arrays  # noqa: E402
from realtime.recording.recorder import Recorder  # noqa: E402
from realtime.stream.subscriber import Subscriber  # noqa: E402
from realtime.stream.wire import WireError, decode  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.test_realtime.test_bridges.ros2_fixtures import (ENV, Listener, actions, expected_positions,  # noqa: E402
                                                            orientations, positions, sensor_data_qos, stamp_ns)
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames  # noqa: E402

RUN_LIVE = [sys.executable, str(REPO / "run_live.py")]
DELETED = [("person_0", 0, 2), ("person_0", 1, 2)]  # Marker.DELETE of the joints and the bones


def _free_address() -> str:
    probe = zmq.Context.instance().socket(zmq.PUB)
    port = probe.bind_to_random_port("tcp://127.0.0.1")
    probe.close(0)
    return f"tcp://127.0.0.1:{port}"


def _run_live_with_stream(*args: str, timeout_s: float = 150.0):
    """Run run_live.py --ros2 with a ZeroMQ subscriber and two ROS 2 listeners (RViz's QoS and the
    sensor-data QoS); returns (stream frames by capture ns, rviz listener, sensor listener, stdout).

    ROS 2 has a slow joiner too (discovery); so the ZeroMQ subscriber connects only once both
    listeners see the bridge's publishers, and run_live.py holds its first frame until then
    (``--wait-subscribers 1``): every frame is published to matched ROS 2 subscribers."""
    address, frames = _free_address(), {}
    with Listener(name="rviz_like") as rviz, Listener(sensor_data_qos(), name="sensor_like") as sensor:
        proc = subprocess.Popen([*RUN_LIVE, "--headless", "--ros2", "--publish", address, "--wait-subscribers", "1",
                                 "--wait-timeout", "90", "--status-every", "0", *args], cwd=REPO, env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert rviz.wait_for_publishers(90.0) and sensor.wait_for_publishers(10.0), "the bridge was not discovered"
            with Subscriber(address) as sub:
                reader = threading.Thread(target=_collect, args=(sub, frames, proc), daemon=True)
                reader.start()
                stdout, stderr = proc.communicate(timeout=timeout_s)
                reader.join(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        rviz.wait_for(len(frames), 2.0)  # the last messages in flight
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    return frames, rviz, sensor, stdout


def _collect(sub: Subscriber, frames: dict, proc: subprocess.Popen) -> None:
    idle = 0
    while idle < 20 or proc.poll() is None:  # until the run ended and 2 s passed without a message
        parts = sub.recv_parts(timeout_ms=100)
        if parts is None:
            idle += 1
            continue
        idle = 0
        try:
            frame = decode(parts)
        except WireError:
            continue
        frames[round(frame.t_capture * 1e9)] = frame


def test_run_live_ros2_publishes_the_streamed_joints_to_rviz_and_sensor_qos_subscribers():
    frames, rviz, sensor, stdout = _run_live_with_stream("--source", "demo", "--max-frames", "40", "--no-realtime",
                                                         "--up", "z")
    assert len(frames) == 40
    assert "stage ros2" in stdout  # the bridge's time in the run's summary
    for listener in (rviz, sensor):
        assert len(listener.joints) >= 30 and len(listener.markers) >= 30, (len(listener.joints), len(listener.markers))
    matched = turned = 0
    for pose_array in rviz.joints:
        frame = frames[stamp_ns(pose_array)]  # every message is stamped with a streamed frame's capture time
        assert frame.has_person
        assert pose_array.header.frame_id in ("camera_optical", "world")  # "world": --up z, once the floor is known
        np.testing.assert_array_equal(positions(pose_array), expected_positions(frame, pose_array.header.frame_id))
        # Orientations: the solve stage's skeleton (run_live adds it for ROS 2), carried on the stream too.
        frame.person.skeleton = skeleton_from_arrays(frame.person, frame.header)
        assert frame.person.skeleton is not None
        want = SceneBuilder("auto").build(frame).people[0].orientations
        got = orientations(pose_array)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-9)
        np.testing.assert_allclose(got, want, atol=1e-6)  # the stream carries the rotations as float32
        turned += not np.allclose(got, [0, 0, 0, 1])
        matched += 1
    assert matched >= 30 and turned >= 30  # real rotations, not the identity
    for marker_array in rviz.markers:
        joints, bones = marker_array.markers
        frame = frames[stamp_ns(joints)]
        # SPHERE_LIST (7) of the joints, LINE_LIST (5) of the bones
        assert (joints.ns, joints.id, joints.type, bones.id, bones.type) == ("person_0", 0, 7, 1, 5)
        got = np.array([[p.x, p.y, p.z] for p in joints.points])
        np.testing.assert_array_equal(got, expected_positions(frame, joints.header.frame_id))
        assert len(bones.points) == 30 and len(bones.colors) == 30 and joints.lifetime.sec == 1
    assert {stamp_ns(m) for m in sensor.joints} <= set(frames)


def _empty_stretch_folder(folder, before: int = 15, empty: int = 20, after: int = 15):
    """Demo frames, then the empty room (the figure has left), then the figure again, as PNG files."""
    from realtime.demo.background import room_background
    from realtime.demo.scene import DemoScene

    scene = DemoScene(640, 480)
    images = [scene.render(i).image for i in range(before)] + [room_background(scene.camera)] * empty
    images += [scene.render(before + empty + i).image for i in range(after)]
    folder.mkdir()
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"frame_{i:04d}.png"), image)
    return folder


def test_markers_are_deleted_when_the_person_leaves_and_come_back_with_them(tmp_path):
    folder = _empty_stretch_folder(tmp_path / "frames")
    frames, rviz, _, _ = _run_live_with_stream("--source", str(folder), "--no-realtime", "--fps", "30")
    assert len(frames) == 50
    by_index = sorted(frames.values(), key=lambda f: f.frame_index)
    empty = [f for f in by_index if not f.has_person]
    assert len(empty) >= 15 and by_index[0].has_person and by_index[-1].has_person
    person_at = {ns: f.has_person for ns, f in frames.items()}
    timeline = sorted(rviz.markers, key=lambda m: stamp_ns(m.markers[0]) if m.markers else 0)
    for marker_array in timeline:
        stamp = stamp_ns(marker_array.markers[0]) if marker_array.markers else None
        if stamp is not None and not person_at[stamp]:  # nobody in the frame: only deletions, never an ADD
            assert actions(marker_array) in (DELETED, [])
    left = [m for m in timeline if actions(m) == DELETED]
    assert left, "no MarkerArray deleted the person's markers"
    first_delete = stamp_ns(left[0].markers[0])
    assert any(stamp_ns(m.markers[0]) < first_delete and m.markers[0].action == 0 for m in timeline if m.markers)
    assert any(stamp_ns(m.markers[0]) > first_delete and m.markers[0].action == 0 for m in timeline if m.markers)
    empty_stamps = {round(f.t_capture * 1e9) for f in empty}
    assert all(len(p.poses) == 0 for p in rviz.joints if stamp_ns(p) in empty_stamps)  # an empty PoseArray
    assert all(len(p.poses) == 16 for p in rviz.joints if stamp_ns(p) not in empty_stamps)


def test_the_bridge_command_replays_a_session_onto_the_topics(tmp_path):
    frames = synthetic_frames(150)
    with Recorder(tmp_path / "s.mcap", {"source": "synthetic"}) as rec:
        for parts in encoded(frames):
            rec.write(parts)
    index_of = {f.joints_3d.astype(np.float64).tobytes(): f.frame_index for f in frames if f.has_person}
    with Listener() as listener:
        proc = subprocess.run([sys.executable, "-m", "realtime.bridges.ros2", "--session", str(rec.path),
                               "--speed", "3", "--wait-subscribers", "1", "--wait-timeout", "60"],
                              cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)
        listener.wait_for(100, 2.0)
    assert proc.returncode == 0, proc.stderr
    assert "published 150 frames" in proc.stdout
    assert len(listener.joints) >= 100  # KEEP_LAST 1: a busy subscriber may miss a few
    # Replay stamps frames as live, so each message is identified by its joints: exactly a recorded frame's.
    indices = [index_of[positions(p).tobytes()] for p in listener.joints if p.poses]
    assert indices == sorted(indices) and len(indices) >= 90
    assert sum(1 for p in listener.joints if not p.poses) >= 5  # every 13th synthetic frame is empty


def test_without_the_ros_wheels_one_line_says_what_to_install_and_exit_status_is_2():
    block = "import sys; sys.modules['rclpy'] = None; "  # what an interpreter without the wheels finds
    run_live = ["run_live.py", "--source", "demo", "--headless", "--max-frames", "1", "--ros2",
                "--publish", _free_address()]
    for script in (block + f"import runpy; sys.argv = {run_live!r}; runpy.run_path('run_live.py', run_name='__main__')",
                   block + "from realtime.bridges.ros2 import main; sys.exit(main(['--session', 'missing.mcap']))"):
        proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=ENV, capture_output=True, text=True,
                              timeout=120)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2, proc.stderr
        assert len(lines) == 1 and "pip install -r requirements-ros2.txt" in lines[0], proc.stderr
