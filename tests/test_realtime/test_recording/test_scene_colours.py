"""Robots and Foxglove draw people in the colours the viewer and the overlay use: by side for one
person, in each person's own hue with several (``realtime.core.palette``)."""
from __future__ import annotations

import numpy as np
import pytest

from realtime.core import palette
from realtime.core.skeleton_scene import BONE_COLOURS, SceneBuilder
from tests.test_realtime.test_bridges.people_fixtures import people_frames


def _scene(wire_major: int):
    frame = people_frames(40)[35]  # people 3, 8 and 12 in view
    frame.wire_major = wire_major
    if wire_major == 1:
        frame.people = frame.people[:1]
    return SceneBuilder("camera").build(frame)


def test_one_person_by_side_several_people_each_in_their_own_hue():
    (alone,) = _scene(1).people
    assert alone.bone_colours == BONE_COLOURS == tuple(palette.SIDE_COLOURS.bone_rgb())
    people = _scene(2).people
    assert [p.id for p in people] == [3, 8, 12]
    for person in people:
        assert person.bone_colours == tuple(palette.person_colours(person.id).bone_rgb())
    assert len({p.bone_colours for p in people}) == 3


def _rgb(colour) -> tuple:
    return tuple(round(float(getattr(colour, k)), 4) for k in ("r", "g", "b"))


def _expected(person) -> list:
    return [tuple(round(c, 4) for c in rgb) for rgb in person.bone_colours for _ in range(2)]


def test_foxglove_entities_carry_each_persons_bone_colours():
    """Decoded from the bytes with the schema that travels with them, as the Foxglove app reads them."""
    pytest.importorskip("foxglove", reason="foxglove-sdk is in requirements.txt")
    from realtime.recording.foxglove_scene import SCENE_TOPIC, scene_update, schemas
    from tests.test_realtime.test_recording.foxglove_fixtures import decode, message_class

    name, _, data = schemas()[SCENE_TOPIC]
    scene = _scene(2)
    update = decode(message_class(name, data), scene_update(scene).encode())
    assert [e["id"] for e in update["entities"]] == [p.name for p in scene.people]
    for entity, person in zip(update["entities"], scene.people):
        (bones,) = entity["lines"]
        got = [tuple(round(float(c.get(k, 0.0)), 4) for k in ("r", "g", "b")) for c in bones["colors"]]
        assert got == _expected(person)


def test_ros2_markers_carry_each_persons_bone_colours():
    rosbags = pytest.importorskip("rosbags.typesys", reason="rosbags is in requirements-ros2.txt")
    from realtime.recording.ros2_messages import BONES_MARKER_ID, marker_array
    from realtime.recording.ros2bag import _maker

    make = _maker(rosbags.get_typestore(rosbags.Stores.ROS2_JAZZY))
    scene = _scene(2)
    markers = {m.ns: m for m in marker_array(make, scene).markers if m.id == BONES_MARKER_ID}
    for person in scene.people:
        assert [_rgb(c) for c in markers[person.name].colors] == _expected(person)
    alone = _scene(1)
    (marker,) = [m for m in marker_array(make, alone).markers if m.id == BONES_MARKER_ID]
    assert [_rgb(c) for c in marker.colors] == _expected(alone.people[0])
    assert np.isfinite([c.r for c in marker.colors]).all()
