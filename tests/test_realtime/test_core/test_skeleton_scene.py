"""The protocol-free skeleton scene: frames and transforms after REP-103, the frame choice, deletions
that repeat for a while and then stop, and joint orientations that turn each bone's rest direction
onto the bone, in whichever frame the joints are given."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from realtime.core.records import FrameResult, PersonPose
from realtime.core.skeleton_scene import (CAMERA_FRAME, OPTICAL_FRAME, SceneBuilder, scene_from_solver,
                                          stamp_ns, world_frame_id)
from realtime.core.skeleton_stage import SkeletonOptions, SkeletonStage
from semgcn.skeleton import PARENTS
from semgcn.solver.rig import JOINT_BONE
from tests.test_realtime.test_recording.foxglove_fixtures import calibrated_frames


def _transforms(scene) -> dict:
    return {(t.parent, t.child): t for t in scene.transforms}


def test_camera_optical_is_the_rep103_optical_frame_of_the_camera_body_frame():
    scene = SceneBuilder().build(FrameResult(0, 1.5, (640, 480)))
    optical = _transforms(scene)[(CAMERA_FRAME, OPTICAL_FRAME)]
    axes = Rotation.from_quat(optical.rotation).apply(np.eye(3))  # optical x, y, z seen from the body frame
    np.testing.assert_allclose(axes, [[0, -1, 0], [0, 0, -1], [1, 0, 0]], atol=1e-12)  # right, down, forward
    assert scene.stamp_ns == 1_500_000_000 == stamp_ns(1.5) and scene.people == []


@pytest.mark.parametrize("up", ["z", "y"])
def test_the_world_transform_maps_camera_joints_onto_the_world_joints(up):
    frame = calibrated_frames(6, up=up, world_from=0)[5]
    scene = SceneBuilder("camera").build(frame)
    assert scene.frame_id == OPTICAL_FRAME
    tfs = _transforms(scene)
    world = tfs[(world_frame_id(up), CAMERA_FRAME)]
    optical = tfs[(CAMERA_FRAME, OPTICAL_FRAME)]
    in_camera = Rotation.from_quat(optical.rotation).apply(scene.people[0].positions)
    in_world = Rotation.from_quat(world.rotation).apply(in_camera) + world.translation
    np.testing.assert_allclose(in_world, frame.person.joints_world, atol=2e-5)  # the header is rounded to 1e-6
    assert world_frame_id("z") == "world" and world_frame_id("y") == "world_y_up"


def test_the_frame_choice():
    frames = calibrated_frames(8, up="z", world_from=4)
    before, after = frames[1], frames[5]
    assert SceneBuilder("auto").build(before).frame_id == OPTICAL_FRAME
    auto = SceneBuilder("auto").build(after)
    assert auto.frame_id == "world"
    np.testing.assert_array_equal(auto.people[0].positions, after.person.joints_world.astype(np.float64))
    camera = SceneBuilder("camera").build(after)
    np.testing.assert_array_equal(camera.people[0].positions,
                                  after.person.joints_3d.astype(np.float64) + after.person.root_translation)
    waiting = SceneBuilder("world").build(before)  # no world yet: nobody drawn rather than a wrong frame
    assert waiting.frame_id == "world" and waiting.people == []
    with pytest.raises(ValueError):
        SceneBuilder("map")


def test_a_person_who_left_is_deleted_for_a_while_and_bad_joints_are_not_drawn():
    builder = SceneBuilder("camera", repeat_deletions=3)
    person = PersonPose(id=4, joints_3d=np.zeros((16, 3), np.float32))
    assert [p.name for p in builder.build(FrameResult(0, 0.0, (64, 64), people=[person])).people] == ["person_4"]
    empties = [builder.build(FrameResult(i, i / 30, (64, 64))).departed for i in range(1, 6)]
    assert empties == [["person_4"]] * 3 + [[], []]
    broken = PersonPose(id=4, joints_3d=np.full((16, 3), np.nan, np.float32))
    assert builder.build(FrameResult(7, 0.3, (64, 64), people=[broken])).people == []


def test_orientations_turn_each_bones_rest_direction_onto_the_bone_in_the_scene_frame():
    frames = calibrated_frames(90, up="z", world_from=45)
    stage = SkeletonStage(SkeletonOptions(publish=False))
    builders = {"camera": SceneBuilder("camera"), "auto": SceneBuilder("auto")}
    errors = {name: [] for name in builders}
    only_child = {j: [c for c in range(16) if PARENTS[c] == j] for j in range(16)}
    for frame in frames:
        stage.process(frame)
        for name, builder in builders.items():
            scene = builder.build(frame)
            if not scene.people or frame.person.skeleton is None:
                continue
            sk, drawn = frame.person.skeleton, scene.people[0]
            in_world = scene.frame_id == "world"
            axes = scene_from_solver(sk.frame, in_world, "z", builder._world(frame.world_frame)[1])
            for joint, children in only_child.items():
                if len(children) != 1:
                    continue
                rest = axes @ sk.rest_offsets[JOINT_BONE[children[0]]]  # the rest bone, in the scene's axes
                turned = Rotation.from_quat(drawn.orientations[joint]).apply(rest)
                bone = drawn.positions[children[0]] - drawn.positions[joint]
                cos = turned @ bone / np.linalg.norm(turned) / np.linalg.norm(bone)
                errors[name].append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    for name, angles in errors.items():
        assert len(angles) > 500, name
        assert np.median(angles) < 0.5 and np.percentile(angles, 90) < 10.0, (name, np.percentile(angles, [50, 90]))
    assert frames[-1].person.skeleton.frame == "world"  # both solver frames were met, in both scene frames
