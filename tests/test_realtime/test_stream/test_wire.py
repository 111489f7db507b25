"""Wire format round trips, and every malformed or foreign message is a WireError, never a crash."""
import json

import numpy as np
import pytest

from realtime.stream.wire import SCHEMA, TOPIC, WireError, decode, encode, message
from tests.frames import frame_with


def _frame(with_person=True):
    rng = np.random.default_rng(0)
    return frame_with(7, 100.0, rng.uniform(0, 600, (16, 2)), rng.uniform(0, 1, 16),
                      rng.normal(size=(16, 3)) if with_person else None, source="demo")


def test_round_trip_keeps_arrays_and_header_fields():
    frame = _frame()
    frame.person.root_translation = np.array([0.1, 0.2, 3.0], np.float32)
    frame.person.extra_arrays["gt_joints_3d"] = np.ones((16, 3), np.float32)
    frame.header["replay"] = {"session": "s.mcap"}
    frame.timings_ms, frame.t_publish, frame.seq = {"detect": 4.5}, 100.25, 3
    out = decode(encode(frame))
    assert out.frame_index == 7 and out.image_size == (640, 480) and out.source == "demo"
    assert np.allclose(out.joints_3d, frame.joints_3d)
    assert np.allclose(out.person.root_translation, [0.1, 0.2, 3.0])
    assert np.allclose(out.arrays["root_translation"], [0.1, 0.2, 3.0])  # the v1 flat view of the arrays
    assert np.array_equal(out.person.extra_arrays["gt_joints_3d"], np.ones((16, 3)))
    assert out.timings_ms == {"detect": 4.5} and out.header["timings_ms"] == {"detect": 4.5}
    assert out.seq == 3 and out.header["replay"] == {"session": "s.mcap"}  # unknown fields are kept
    assert out.latency_s == pytest.approx(0.25)
    assert out.header["schema"] == SCHEMA


def test_a_frame_is_encoded_once_and_a_decoded_one_encodes_to_the_message_received():
    frame = _frame()
    parts = encode(frame)
    assert encode(frame) is parts and message(frame).parts is parts  # one encoding, shared by every consumer
    again = decode(parts)
    assert encode(again) == parts  # recording a received message keeps it byte for byte


def test_empty_frame_is_published_as_such():
    parts = encode(_frame(with_person=False))
    assert len(parts) == 2
    out = decode(parts)
    assert not out.has_person and out.joints_3d is None


def _with_header(parts, **changes):
    header = json.loads(parts[1])
    header.update(changes)
    return [parts[0], json.dumps(header).encode(), *parts[2:]]


@pytest.mark.parametrize("mutate", [
    lambda p: [b"other", *p[1:]],
    lambda p: [p[0], b"\xff\xfe not json", *p[2:]],
    lambda p: [p[0], b"[1, 2]", *p[2:]],
    lambda p: _with_header(p, schema="somebody.else/1"),
    lambda p: _with_header(p, schema="semgcn.pose/2"),
    lambda p: _with_header(p, image_size="big"),
    lambda p: p[:-1],
    lambda p: [*p[:-1], p[-1][:-4]],
    lambda p: p[:1],
    lambda p: _with_header(p, has_person=False),
])
def test_malformed_messages_raise_wire_error(mutate):
    with pytest.raises(WireError):
        decode(mutate(encode(_frame())))


def test_topic_constant():
    assert encode(_frame())[0] == TOPIC


def _people_frame(n=3):
    rng = np.random.default_rng(5)
    frame = _frame(with_person=False)
    frame.wire_major = 2
    from realtime.core.records import PersonPose
    for i in range(n):
        person = PersonPose(id=10 + i, keypoints_2d=rng.uniform(0, 600, (16, 2)).astype(np.float32),
                            confidence=rng.uniform(0, 1, 16).astype(np.float32),
                            joints_3d=rng.normal(size=(16, 3)).astype(np.float32), scale={"factor": 1.0 + i})
        if i == 1:
            person.root_translation = np.array([0.5, 0.0, 4.0], np.float32)
            person.extra_arrays["gt_joints_3d"] = np.zeros((16, 3), np.float32)
        frame.people.append(person)
    frame.extra_arrays["frame_thing"] = np.arange(4, dtype=np.float32)
    return frame


def test_version_2_carries_every_person_with_its_id_and_arrays():
    frame = _people_frame()
    parts = encode(frame)
    header = json.loads(parts[1])
    assert header["schema"] == "semgcn.pose/2" and [p["id"] for p in header["people"]] == [10, 11, 12]
    out = decode(parts)
    assert out.wire_major == 2 and [p.id for p in out.people] == [10, 11, 12]
    for got, want in zip(out.people, frame.people):
        np.testing.assert_array_equal(got.joints_3d, want.joints_3d)
        np.testing.assert_array_equal(got.keypoints_2d, want.keypoints_2d)
        assert got.scale == want.scale
    assert out.people[0].root_translation is None and np.allclose(out.people[1].root_translation, [0.5, 0, 4])
    assert "gt_joints_3d" in out.people[1].extra_arrays and "gt_joints_3d" not in out.people[2].extra_arrays
    assert np.array_equal(out.extra_arrays["frame_thing"], np.arange(4))
    np.testing.assert_array_equal(out.joints_3d, frame.people[0].joints_3d)  # old code: the first person
    assert encode(out) == parts  # recorded byte for byte


def test_a_version_1_reader_skips_version_2_and_one_person_stays_version_1():
    v1_check = lambda parts: json.loads(parts[1])["schema"].startswith("semgcn.pose/1")  # noqa: E731 - the README's
    assert not v1_check(encode(_people_frame())) and v1_check(encode(_frame()))
    nobody = _people_frame(0)
    assert decode(encode(nobody)).people == [] and not decode(encode(nobody)).has_person


@pytest.mark.parametrize("change, words", [
    (lambda h: h["arrays"][1].update(person=7), "must index"),
    (lambda h: h["people"][1].update(id=10), "sent twice"),
    (lambda h: h["people"].append({"id": 99}), "lacks the arrays"),
    (lambda h: h.update(people="many"), "'people' must be a list"),
    (lambda h: h["people"][0].update(id=-3), "'id'"),
])
def test_malformed_version_2_messages_raise_wire_error(change, words):
    parts = encode(_people_frame())
    header = json.loads(parts[1])
    change(header)
    with pytest.raises(WireError, match=words):
        decode([parts[0], json.dumps(header).encode(), *parts[2:]])
