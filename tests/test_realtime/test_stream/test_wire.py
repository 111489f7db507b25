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
