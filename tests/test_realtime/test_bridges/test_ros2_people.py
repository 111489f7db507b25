"""ROS 2 with several people (semgcn.pose/2), received by a real rclpy subscriber: a marker namespace per
person, deleted when that person leaves while the others' stay; /semgcn/joints carries the chosen person;
each person has /semgcn/person_<id>/joints, made when they appear and gone from the ROS graph after
their deletion window; the bridge's command line plays a v2 session the same way."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="the ROS 2 tests need the ROS 2 wheels: pip install -r requirements-ros2.txt")

from realtime.bridges.ros2 import Ros2Bridge, Ros2Options  # noqa: E402
from realtime.recording.recorder import Recorder  # noqa: E402
from realtime.recording.session_reader import read_session  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.test_realtime.test_bridges.people_fixtures import SCHEDULE, people_frames  # noqa: E402
from tests.test_realtime.test_bridges.ros2_fixtures import ENV, DOMAIN_ID, Listener, actions, positions, stamp_ns  # noqa: E402

IDS = tuple(SCHEDULE)
ADD, DELETE = 0, 2
DELETION_FRAMES = 30  # SceneBuilder.repeat_deletions
HOLD_FRAMES = 45      # the person choice's 1.5 s at 30 fps


def _joints(person) -> np.ndarray:
    """Where the bridge puts a person in camera_optical: joints_3d + root_translation."""
    return person.joints_3d.astype(np.float64) + person.root_translation


def _expected_markers(index: int) -> set[tuple[str, int, int]]:
    want = set()
    for pid, span in SCHEDULE.items():
        if span.first <= index < span.last:
            want |= {(f"person_{pid}", 0, ADD), (f"person_{pid}", 1, ADD)}
        elif span.last <= index < span.last + DELETION_FRAMES:
            want |= {(f"person_{pid}", 0, DELETE), (f"person_{pid}", 1, DELETE)}
    return want


def _wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _feed_bridge(frames, listener: Listener) -> tuple[Ros2Bridge, list[list[str]]]:
    bridge = Ros2Bridge(Ros2Options(frame="camera", domain_id=DOMAIN_ID, node_name="people_bridge"))
    topics_after = []
    try:
        assert bridge.wait_for_subscribers(1, 60.0) and listener.wait_for_publishers(30.0)
        for frame in frames:
            bridge.consume(frame)
            topics_after.append(sorted(bridge.person_topics))
            time.sleep(0.01)
        listener.wait_for(len(frames), 5.0)
        gone = _wait_until(lambda: listener.node.count_publishers("/semgcn/person_3/joints") == 0, 10.0)
        assert gone, "person 3's topic is still in the ROS graph after their deletion window"
        assert listener.node.count_publishers("/semgcn/person_8/joints") == 1  # still in view at the end
    finally:
        bridge.close()
    return bridge, topics_after


def test_several_people_each_get_a_namespace_and_a_topic_and_who_leaves_goes_while_the_others_stay():
    frames = people_frames()
    index_of = {round(f.t_capture * 1e9): f.frame_index for f in frames}
    with Listener(person_ids=IDS, name="people_listener") as listener:
        bridge, topics_after = _feed_bridge(frames, listener)
    assert bridge.frames == len(frames)
    # The per-person publishers live from a person's first frame to the end of their deletion window.
    for i, topics in enumerate(topics_after):
        want = [f"/semgcn/person_{pid}/joints" for pid, s in SCHEDULE.items() if s.first <= i < s.last + DELETION_FRAMES]
        assert topics == sorted(want), i
    assert len(listener.markers) >= 0.8 * len(frames)
    for marker_array in listener.markers:
        index = index_of[stamp_ns(marker_array.markers[0])]
        assert set(actions(marker_array)) == _expected_markers(index), index  # 3 deleted, 8 and 12 kept
    _check_chosen_joints(listener.joints, frames, index_of)
    _check_person_topics(listener.people, frames, index_of)


def _check_chosen_joints(received, frames, index_of) -> None:
    """/semgcn/joints: person 3 (tracked the longest) until they left, nobody for the hold, then 8."""
    assert len(received) >= 0.8 * len(frames)
    left = SCHEDULE[3].last
    for pose_array in received:
        index = index_of[stamp_ns(pose_array)]
        chosen = 3 if index < left else 8 if index > left + HOLD_FRAMES else None
        if index == left + HOLD_FRAMES:  # the hold's last frame: a tie of clocks, either is right
            continue
        if chosen is None:
            assert pose_array.poses == []
        else:
            person = next(p for p in frames[index].people if p.id == chosen)
            np.testing.assert_array_equal(positions(pose_array), _joints(person))


def _check_person_topics(received: dict[int, list], frames, index_of) -> None:
    """Each person's topic: their own joints while in view, empty PoseArrays in their deletion window."""
    for pid, span in SCHEDULE.items():
        messages = received[pid]
        assert len(messages) >= 0.6 * (min(span.last + DELETION_FRAMES, len(frames)) - span.first), pid
        for pose_array in messages:
            index = index_of[stamp_ns(pose_array)]
            assert span.first <= index < span.last + DELETION_FRAMES, (pid, index)
            if index < span.last:
                person = next(p for p in frames[index].people if p.id == pid)
                np.testing.assert_array_equal(positions(pose_array), _joints(person))
            else:
                assert pose_array.poses == []
    assert any(not m.poses for m in received[3])  # person 3 left: their topic said so before it went


def test_the_bridge_command_plays_a_v2_session_following_the_person_asked_for(tmp_path):
    frames = people_frames()
    with Recorder(tmp_path / "people.mcap", {"source": "synthetic"}) as rec:
        for frame in frames:
            rec.consume(frame)
    recorded = read_session(rec.path).frames
    whose = {}  # joints -> (person id, frame index): replay stamps frames as live, the joints say which they are
    for frame in recorded:
        for person in frame.people:
            whose[_joints(person).tobytes()] = (person.id, frame.frame_index)
    with Listener(person_ids=IDS, name="session_listener") as listener:
        proc = subprocess.run([sys.executable, "-m", "realtime.bridges.ros2", "--session", str(rec.path),
                               "--speed", "3", "--wait-subscribers", "1", "--wait-timeout", "60", "--ros2-frame",
                               "camera", "--ros2-person", "12"],
                              cwd=REPO, env=ENV, capture_output=True, text=True, timeout=180)
        listener.wait_for(100, 3.0)
    assert proc.returncode == 0, proc.stderr
    assert f"published {len(frames)} frames" in proc.stdout
    chosen = [whose[positions(p).tobytes()] for p in listener.joints if p.poses]
    assert len(chosen) >= 0.6 * (SCHEDULE[12].last - SCHEDULE[12].first)
    assert {pid for pid, _ in chosen} == {12} and [i for _, i in chosen] == sorted(i for _, i in chosen)
    assert sum(1 for p in listener.joints if not p.poses) >= 30  # frames without person 12
    for pid in IDS:
        got = [whose[positions(p).tobytes()] for p in listener.people[pid] if p.poses]
        assert len(got) >= 0.5 * (SCHEDULE[pid].last - SCHEDULE[pid].first), pid
        assert {owner for owner, _ in got} == {pid}


def test_people_coming_and_going_every_few_frames_make_and_destroy_their_topics_without_a_hitch():
    from tests.test_realtime.test_bridges.people_fixtures import churn_frames

    frames = churn_frames()
    bridge = Ros2Bridge(Ros2Options(frame="camera", domain_id=DOMAIN_ID, node_name="churn_bridge"))
    try:
        for frame in frames:
            bridge.consume(frame)
        topics = set(bridge.person_topics)
        published = {name for name, _ in bridge._node.get_publisher_names_and_types_by_node("churn_bridge", "/")}
    finally:
        bridge.close()
    drawn_lately = {p.id for f in frames[-DELETION_FRAMES - 1:] for p in f.people if p.joints_3d is not None}
    assert topics == {f"/semgcn/person_{pid}/joints" for pid in drawn_lately}
    assert topics <= published and not {t for t in published if "person_" in t} - topics  # the rest destroyed
    assert bridge.frames == len(frames) and len({p.id for f in frames for p in f.people}) > len(topics)
