"""A recording's Foxglove channels, read back with the mcap reader and the schemas the file carries:
valid against Foxglove's schemas, the skeleton where the stream put it, deletions when nobody is there,
and transforms that carry the camera frame into the calibrated world."""
from __future__ import annotations

import numpy as np
import pytest
from mcap.reader import make_reader

pytest.importorskip("foxglove", reason="the Foxglove channels need foxglove-sdk (pip install -r requirements.txt)")

from realtime.recording.recorder import Recorder, RecorderOptions  # noqa: E402
from realtime.recording.session_reader import read_session  # noqa: E402
from semgcn.skeleton import NUM_JOINTS  # noqa: E402
from tests.test_realtime.test_recording.foxglove_fixtures import (calibrated_frames, check_schema, compose,  # noqa: E402
                                                                  decode, message_class, seconds)


def _record(tmp_path, frames, **options):
    with Recorder(tmp_path / "s.mcap", {"source": "synthetic"}, options=RecorderOptions(**options)) as rec:
        for frame in frames:
            rec.consume(frame)
    return rec.path


def _read(path) -> dict[str, list[tuple[int, dict]]]:
    """Per Foxglove topic: (log time ns, decoded message), after checking schema and channel encodings."""
    out: dict[str, list] = {}
    with open(path, "rb") as handle:
        reader = make_reader(handle)
        summary = reader.get_summary()
        classes = {}
        for channel in summary.channels.values():
            schema = summary.schemas[channel.schema_id]
            if schema.name.startswith("foxglove."):
                assert (schema.encoding, channel.message_encoding) == ("protobuf", "protobuf")
                classes[channel.topic] = (schema.name, message_class(schema.name, schema.data))
        for _, channel, message in reader.iter_messages(topics=list(classes)):
            name, cls = classes[channel.topic]
            value = decode(cls, message.data)
            check_schema(value, name)
            out.setdefault(channel.topic, []).append((message.log_time, value))
    return out


def test_the_scene_validates_against_foxglove_schemas_and_holds_the_streamed_joints(tmp_path):
    frames = calibrated_frames(40)
    path = _record(tmp_path, frames)
    channels = _read(path)
    assert set(channels) == {"/semgcn/scene", "/semgcn/tf"}
    scenes = channels["/semgcn/scene"]
    assert len(scenes) == len(frames)
    for frame, (log_time, scene) in zip(frames, scenes):
        assert abs(log_time / 1e9 - frame.t_capture) < 1e-6
        if not frame.people:  # nobody there: the person drawn before is deleted, nothing is added
            assert scene["entities"] == []
            assert [(d["id"], d["type"]) for d in scene["deletions"]] == [("person_0", "MATCHING_ID")]
            continue
        assert scene["deletions"] == []
        (entity,) = scene["entities"]
        assert entity["id"] == "person_0" and entity["frame_id"] == "camera_optical"
        assert abs(seconds(entity["timestamp"]) - frame.t_capture) < 2e-6 and entity["lifetime"] == "1s"
        centres = np.array([[s["pose"]["position"][k] for k in "xyz"] for s in entity["spheres"]])
        expected = frame.person.joints_3d.astype(np.float64) + frame.person.root_translation
        np.testing.assert_array_equal(centres, expected)  # float64 on the wire: the exact streamed values
        assert all(s["pose"]["orientation"] == {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0} for s in entity["spheres"])
        assert all(s["size"]["x"] > 0 and s["color"]["a"] > 0 for s in entity["spheres"])
        (bones,) = entity["lines"]
        assert bones["type"] == "LINE_LIST" and len(bones["points"]) == 2 * (NUM_JOINTS - 1)
        assert len(bones["colors"]) == len(bones["points"]) and bones["thickness"] > 0


def test_the_transforms_carry_the_scene_into_the_calibrated_world(tmp_path):
    frames = calibrated_frames(12, up="z", world_from=5)
    channels = _read(_record(tmp_path, frames))
    by_time: dict[int, dict] = {}
    for log_time, tf in channels["/semgcn/tf"]:
        by_time.setdefault(log_time, {})[(tf["parent_frame_id"], tf["child_frame_id"])] = tf
    scenes = dict(channels["/semgcn/scene"])
    for i, frame in enumerate(frames):
        tfs = by_time[round(frame.t_capture * 1e9)]
        optical = tfs[("camera", "camera_optical")]  # REP-103: optical z forward = body x forward
        q = [optical["rotation"][k] for k in "xyzw"]
        np.testing.assert_allclose(compose([0, 0, 0], q, [[0, 0, 1], [1, 0, 0], [0, 1, 0]]),
                                   [[1, 0, 0], [0, -1, 0], [0, 0, -1]], atol=1e-12)
        assert (("world", "camera") in tfs) == (i >= 5)
        if i < 5 or not frame.people:
            continue
        world = tfs[("world", "camera")]
        entity = scenes[round(frame.t_capture * 1e9)]["entities"][0]
        in_optical = [[s["pose"]["position"][k] for k in "xyz"] for s in entity["spheres"]]
        in_camera = compose([0, 0, 0], q, in_optical)
        in_world = compose([world["translation"][k] for k in "xyz"], [world["rotation"][k] for k in "xyzw"], in_camera)
        np.testing.assert_allclose(in_world, frame.person.joints_world, atol=2e-5)  # header rounded to 1e-6


def test_the_pose_channel_is_unchanged_and_the_scene_can_be_left_out(tmp_path):
    frames = calibrated_frames(20)
    with_scene = read_session(_record(tmp_path / "a", frames))
    for frame in frames:
        frame.encoded = None
    without = _record(tmp_path / "b", frames, foxglove=False)
    assert _read(without) == {}
    plain = read_session(without)
    assert [f.encoded.parts for f in with_scene.frames] == [f.encoded.parts for f in plain.frames]


def test_several_people_are_one_entity_each_and_who_leaves_is_deleted_while_the_others_stay(tmp_path):
    from tests.test_realtime.test_bridges.people_fixtures import drawn_and_deleted, people_frames

    frames = people_frames()
    scenes = _read(_record(tmp_path, frames))["/semgcn/scene"]
    assert len(scenes) == len(frames)
    for frame, (_, scene) in zip(frames, scenes):
        drawn, deleted = drawn_and_deleted(frame.frame_index)
        entities = {e["id"]: e for e in scene["entities"]}
        assert set(entities) == {f"person_{pid}" for pid in drawn}, frame.frame_index
        assert {(d["id"], d["type"]) for d in scene["deletions"]} == {(f"person_{pid}", "MATCHING_ID") for pid in deleted}
        for person in frame.people:
            entity = entities[f"person_{person.id}"]
            assert entity["metadata"] == [{"key": "person_id", "value": str(person.id)}]
            centres = np.array([[s["pose"]["position"][k] for k in "xyz"] for s in entity["spheres"]])
            np.testing.assert_array_equal(centres, person.joints_3d.astype(np.float64) + person.root_translation)


def test_a_frame_is_encoded_once_for_the_recorder_and_the_live_server():
    """``--record`` with ``--foxglove``: two encoders, one encoding (the bytes the first one built); a
    replayed copy of the frame is stamped anew and encoded anew."""
    from realtime.recording.foxglove_scene import FoxgloveScene
    from realtime.recording.replay import restamp

    frame = calibrated_frames(3)[1]
    first = FoxgloveScene().encode(frame)
    assert FoxgloveScene().encode(frame) is first
    replayed = restamp(frame, "s.mcap", seq=0, now=frame.t_capture + 100.0)
    again = FoxgloveScene().encode(replayed)
    shift_ns = (replayed.t_capture - frame.t_capture) * 1e9  # 100 s less the recorded latency
    assert again is not first and abs(again[0].log_time_ns - first[0].log_time_ns - shift_ns) < 1e4
    assert [m.topic for m in again] == [m.topic for m in first]
