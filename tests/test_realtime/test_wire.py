"""Wire format round trips, and every malformed or foreign message is a WireError, never a crash."""
import json

import numpy as np
import pytest

from realtime.wire import SCHEMA, TOPIC, Frame, WireError, decode, encode


def _frame(with_person=True):
    rng = np.random.default_rng(0)
    return Frame(
        frame_index=7, t_capture=100.0, image_size=(640, 480), source="demo",
        keypoints_2d=rng.uniform(0, 600, (16, 2)) if with_person else None,
        confidence=rng.uniform(0, 1, 16) if with_person else None,
        joints_3d=rng.normal(size=(16, 3)) if with_person else None,
    )


def test_round_trip_keeps_arrays_and_header_fields():
    frame = _frame()
    frame.arrays["root_translation"] = np.array([0.1, 0.2, 3.0])
    out = decode(encode(frame, {"timings_ms": {"detect": 4.5}}, t_publish=100.25))
    assert out.frame_index == 7 and out.image_size == (640, 480) and out.source == "demo"
    assert np.allclose(out.joints_3d, frame.joints_3d.astype(np.float32))
    assert np.allclose(out.arrays["root_translation"], [0.1, 0.2, 3.0])
    assert out.header["timings_ms"] == {"detect": 4.5}
    assert out.latency_s == pytest.approx(0.25)
    assert out.header["schema"] == SCHEMA


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
