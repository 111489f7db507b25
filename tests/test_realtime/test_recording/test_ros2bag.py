"""The ROS 2 bag export: laid out as rosbag2 lays out an MCAP bag (checked with the plain mcap reader),
decoded by a ROS 2 MCAP decoder (mcap-ros2-support) and by rosbags' reader into the session's frames,
and with message types that hash like the real ROS 2 packages'."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader

pytest.importorskip("rosbags", reason="the ROS 2 bag export needs rosbags (pip install -r requirements.txt)")
from ruamel.yaml import YAML  # noqa: E402 - rosbags' YAML library (rosbag2's metadata is YAML)
mcap_ros2_reader = pytest.importorskip("mcap_ros2.reader", reason="the test decodes with mcap-ros2-support "
                                                                  "(pip install -r requirements.txt)")

from realtime.recording.recorder import Recorder  # noqa: E402
from realtime.recording.ros2bag import export_ros2bag  # noqa: E402
from realtime.recording.session_reader import read_session  # noqa: E402
from tests.test_realtime.test_recording.foxglove_fixtures import calibrated_frames  # noqa: E402

TOPICS = {"/semgcn/joints": "geometry_msgs/msg/PoseArray", "/semgcn/markers": "visualization_msgs/msg/MarkerArray",
          "/tf": "tf2_msgs/msg/TFMessage", "/tf_static": "tf2_msgs/msg/TFMessage"}


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bag")
    frames = calibrated_frames(60, up="z", world_from=20)
    with Recorder(folder / "s.mcap", {"source": "synthetic"}) as rec:
        for frame in frames:
            rec.consume(frame)
    session = read_session(folder / "s.mcap")
    return export_ros2bag(session, folder / "s_ros2bag"), session


def _yaml(text: str):
    return YAML(typ="safe").load(text)


def _expected(frame, frame_id: str) -> np.ndarray:
    person = frame.person
    if frame_id == "world":
        return person.joints_world.astype(np.float64)
    return person.joints_3d.astype(np.float64) + person.root_translation


def test_the_bag_follows_rosbag2s_mcap_layout(bag):
    out, session = bag
    (mcap_file,) = out.glob("*.mcap")
    meta = _yaml((out / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["version"] == 9 and meta["storage_identifier"] == "mcap"
    assert meta["relative_file_paths"] == [mcap_file.name]
    counts = {t["topic_metadata"]["name"]: t["message_count"] for t in meta["topics_with_message_count"]}
    assert counts == {"/semgcn/joints": 60, "/semgcn/markers": 60, "/tf_static": 1, "/tf": 40}
    assert meta["message_count"] == sum(counts.values())
    with open(mcap_file, "rb") as handle:
        reader = make_reader(handle)
        assert reader.get_header().profile == "ros2"
        summary = reader.get_summary()
        channels = {c.topic: c for c in summary.channels.values()}
        assert {t: summary.schemas[c.schema_id].name for t, c in channels.items()} == TOPICS
        for channel in channels.values():
            assert channel.message_encoding == "cdr" and summary.schemas[channel.schema_id].encoding == "ros2msg"
            (qos,) = _yaml(channel.metadata["offered_qos_profiles"])
            assert qos["reliability"] == "reliable" and qos["history"] == "keep_last"
        static_qos = _yaml(channels["/tf_static"].metadata["offered_qos_profiles"])[0]
        assert static_qos["durability"] == "transient_local"  # late joiners get the static frame, as with tf
        records = {m.name: m.metadata for m in reader.iter_metadata()}
    embedded = _yaml(records["rosbag2"]["serialized_metadata"])  # what rosbag2 reads from the file
    assert embedded["version"] == 9 and embedded["message_count"] == meta["message_count"]


def test_a_ros2_mcap_decoder_reads_back_the_sessions_frames(bag):
    out, session = bag
    (mcap_file,) = out.glob("*.mcap")
    by_topic: dict[str, list] = {}
    for message in mcap_ros2_reader.read_ros2_messages(str(mcap_file)):
        by_topic.setdefault(message.channel.topic, []).append(message)
    poses, markers = by_topic["/semgcn/joints"], by_topic["/semgcn/markers"]
    assert len(poses) == len(markers) == len(session.frames)
    for frame, pose_msg, marker_msg in zip(session.frames, poses, markers):
        stamp = round(frame.t_capture * 1e9)
        assert pose_msg.log_time_ns == stamp
        pose_array = pose_msg.ros_msg
        assert pose_array.header.stamp.sec * 10**9 + pose_array.header.stamp.nanosec == stamp
        kinds = [(m.ns, m.id, m.action) for m in marker_msg.ros_msg.markers]
        if not frame.has_person:
            assert pose_array.poses == [] and kinds == [("person_0", 0, 2), ("person_0", 1, 2)]  # DELETE
            continue
        got = np.array([[p.position.x, p.position.y, p.position.z] for p in pose_array.poses])
        np.testing.assert_array_equal(got, _expected(frame, pose_array.header.frame_id))
        assert pose_array.header.frame_id == ("world" if frame.person.joints_world is not None else "camera_optical")
        q = np.array([[p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w] for p in pose_array.poses])
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)
        assert not np.allclose(q, [0, 0, 0, 1])  # the solver's rotations, solved at export
        assert kinds == [("person_0", 0, 0), ("person_0", 1, 0)]  # ADD the joints and the bones
    (static,) = by_topic["/tf_static"]
    assert [(t.header.frame_id, t.child_frame_id) for t in static.ros_msg.transforms] == [("camera", "camera_optical")]
    assert all([(t.header.frame_id, t.child_frame_id) for t in m.ros_msg.transforms] == [("world", "camera")]
               for m in by_topic["/tf"])


def test_rosbags_reads_the_bag_as_written(bag):
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    out, session = bag
    with AnyReader([out], default_typestore=get_typestore(Stores.ROS2_JAZZY)) as reader:
        assert {c.topic: c.msgtype for c in reader.connections} == TOPICS
        joints = [c for c in reader.connections if c.topic == "/semgcn/joints"]
        arrays = [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages(connections=joints)]
    assert [len(a.poses) for a in arrays] == [16 if f.has_person else 0 for f in session.frames]
    last = session.frames[-1]
    got = np.array([[p.position.x, p.position.y, p.position.z] for p in arrays[-1].poses])
    np.testing.assert_array_equal(got, _expected(last, arrays[-1].header.frame_id))


def test_the_message_types_hash_like_the_ros2_packages(bag):
    """The bag's type hashes (RIHS01, what ROS 2 Iron+ matches types by) equal the installed ROS 2
    message packages' own, so a ROS 2 node reads these messages as its PoseArray and MarkerArray."""
    pytest.importorskip("visualization_msgs", reason="needs the ROS 2 wheels: pip install -r requirements-ros2.txt")
    out, _ = bag
    meta = _yaml((out / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    hashes = {t["topic_metadata"]["type"]: t["topic_metadata"]["type_description_hash"]
              for t in meta["topics_with_message_count"]}
    for msgtype in ("geometry_msgs/msg/PoseArray", "visualization_msgs/msg/MarkerArray"):
        package, _, name = msgtype.split("/")
        description = Path(sys.prefix) / "share" / package / "msg" / f"{name}.json"  # where the wheels put it
        with open(description, encoding="utf-8") as handle:
            ros_hash = json.load(handle)["type_hashes"][0]["hash_string"]
        assert hashes[msgtype] == ros_hash, msgtype


def test_an_existing_bag_is_not_overwritten(bag, tmp_path):
    out, session = bag
    with pytest.raises(ValueError, match="exists"):
        export_ros2bag(session, out)


def test_a_multi_person_session_gives_each_person_a_topic_and_the_chosen_one_the_joints_topic(tmp_path):
    from tests.test_realtime.test_bridges.people_fixtures import SCHEDULE, people_frames

    with Recorder(tmp_path / "people.mcap", {"source": "synthetic"}) as rec:
        for frame in people_frames():
            rec.consume(frame)
    session = read_session(rec.path)
    out = export_ros2bag(session, tmp_path / "people_ros2bag", frame="camera", person=12)
    (mcap_file,) = out.glob("*.mcap")
    by_topic: dict[str, list] = {}
    for message in mcap_ros2_reader.read_ros2_messages(str(mcap_file)):
        by_topic.setdefault(message.channel.topic, []).append(message.ros_msg)
    index_of = {round(f.t_capture * 1e9): f.frame_index for f in session.frames}
    for pid, span in SCHEDULE.items():  # their joints while in view, then 30 empty arrays (their markers' DELETE)
        arrays = by_topic[f"/semgcn/person_{pid}/joints"]
        end = min(span.last + 30, len(session.frames))
        assert [index_of[_stamp(a)] for a in arrays] == list(range(span.first, end))
        assert [len(a.poses) for a in arrays] == [16] * (span.last - span.first) + [0] * (end - span.last)
        for array in arrays[:span.last - span.first]:
            person = next(p for p in session.frames[index_of[_stamp(array)]].people if p.id == pid)
            np.testing.assert_array_equal(_positions(array), person.joints_3d.astype(np.float64) + person.root_translation)
    chosen = by_topic["/semgcn/joints"]  # --ros2-person 12: only ever person 12, else empty
    assert len(chosen) == len(session.frames)
    for array, frame in zip(chosen, session.frames):
        twelve = [p for p in frame.people if p.id == 12]
        assert len(array.poses) == 16 * len(twelve)
        if twelve:
            np.testing.assert_array_equal(_positions(array), twelve[0].joints_3d.astype(np.float64)
                                          + twelve[0].root_translation)
    kinds = [{(m.ns, m.action) for m in a.markers} for a in by_topic["/semgcn/markers"]]
    assert kinds[70] == {("person_3", 2), ("person_8", 0), ("person_12", 0)}  # 3 deleted, the others kept
    meta = _yaml((out / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    counts = {t["topic_metadata"]["name"]: t["message_count"] for t in meta["topics_with_message_count"]}
    assert {t: counts[t] for t in counts if "person_" in t} == {"/semgcn/person_3/joints": 90,
                                                                 "/semgcn/person_8/joints": 140,
                                                                 "/semgcn/person_12/joints": 120}


def _stamp(message) -> int:
    return message.header.stamp.sec * 10**9 + message.header.stamp.nanosec


def _positions(pose_array) -> np.ndarray:
    return np.array([[p.position.x, p.position.y, p.position.z] for p in pose_array.poses])
