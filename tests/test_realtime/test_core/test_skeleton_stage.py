"""The solve stage on frame records: per-person state, frames, bad input, and the skeleton on the stream."""
from __future__ import annotations

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.core.skeleton_stage import SkeletonOptions, SkeletonStage, skeleton_from_arrays
from realtime.stream.wire import decode, encode
from semgcn.solver.axes import CAMERA_TO_SOLVER, Z_UP_TO_Y_UP
from semgcn.solver.lengths import LengthOptions
from tests.test_realtime.test_recording.session_fixtures import synthetic_poses


def _frame(i: int, joints: np.ndarray | None, t0: float = 100.0, **person) -> FrameResult:
    frame = FrameResult(frame_index=i, t_capture=t0 + i / 30, image_size=(640, 480), source="test")
    if joints is not None:
        frame.people.append(PersonPose(joints_3d=joints, confidence=np.ones(16, np.float32), **person))
    return frame


def test_each_frame_gets_a_skeleton_whose_joints_follow_the_input_and_whose_bones_are_held():
    stage = SkeletonStage(SkeletonOptions(lengths=LengthOptions(warmup_frames=10)))
    poses = synthetic_poses(40)
    offsets = []
    for i, joints in enumerate(poses):
        frame = _frame(i, joints, root_translation=np.array([0.2, 0.1, 3.0], np.float32))
        stage.process(frame)
        sk = frame.person.skeleton
        assert sk.frame == "camera" and sk.position_known and sk.calibrated == (i >= 9)
        want = (joints.astype(np.float64) + [0.2, 0.1, 3.0]) @ CAMERA_TO_SOLVER.T
        assert np.linalg.norm(sk.joints()[0] - want[0]) < 1e-6  # the pelvis where calibration put it
        offsets.append(sk.rest_offsets)
    assert all((o == offsets[10]).all() for o in offsets[10:])


def test_the_world_frame_is_used_once_known_and_z_up_is_turned_y_up():
    stage = SkeletonStage()
    joints = synthetic_poses(1)[0].astype(np.float64)
    world = joints @ CAMERA_TO_SOLVER.T @ Z_UP_TO_Y_UP + [1.0, 2.0, 0.9]  # some z-up world
    frame = _frame(0, joints.astype(np.float32), joints_world=world.astype(np.float32))
    frame.world_frame = {"name": "floor", "up": "z"}
    stage.process(frame)
    sk = frame.person.skeleton
    assert sk.frame == "world" and sk.position_known
    np.testing.assert_allclose(sk.joints()[0], world[0] @ Z_UP_TO_Y_UP.T, atol=1e-5)


def test_people_keep_their_own_state_and_one_lost_for_long_starts_again():
    stage = SkeletonStage(SkeletonOptions(lengths=LengthOptions(warmup_frames=5), lost_reset_s=1.0))
    small, large = synthetic_poses(30, seed=1), synthetic_poses(30, seed=2) * 1.3
    for i in range(10):
        frame = _frame(i, small[i])
        frame.people.append(PersonPose(id=7, joints_3d=large[i], confidence=np.ones(16, np.float32)))
        stage.process(frame)
    a, b = frame.people[0].skeleton, frame.people[1].skeleton
    assert a.calibrated and b.calibrated
    assert np.linalg.norm(b.rest_offsets, axis=1).sum() > 1.2 * np.linalg.norm(a.rest_offsets, axis=1).sum()
    frame = _frame(100, small[10])  # three seconds later: the estimate starts again
    stage.process(frame)
    assert not frame.person.skeleton.calibrated


def test_nobody_and_non_finite_joints_give_no_skeleton_and_no_error(caplog):
    stage = SkeletonStage()
    nobody = _frame(0, None)
    stage.process(nobody)
    bad = synthetic_poses(1)[0].copy()
    bad[5] = np.nan
    frame = _frame(1, bad)
    stage.process(frame)
    assert frame.person.skeleton is None and "non-finite" in caplog.text
    stage.process(_frame(2, bad))
    assert caplog.text.count("non-finite") == 1  # said once


def test_the_published_skeleton_and_landmarks_come_back_from_the_wire():
    stage = SkeletonStage()
    rng = np.random.default_rng(0)
    landmarks = np.concatenate([rng.uniform(0, 600, (33, 2)), rng.normal(0, 1, (33, 1)),
                                rng.uniform(0, 1, (33, 2))], axis=1).astype(np.float32)
    frame = _frame(0, synthetic_poses(1)[0], landmarks=landmarks)
    stage.process(frame)
    decoded = decode(encode(frame))
    person = decoded.person
    np.testing.assert_array_equal(person.extra_arrays["landmarks"], landmarks)
    rebuilt = skeleton_from_arrays(person, decoded.header)
    original = frame.person.skeleton
    np.testing.assert_allclose(rebuilt.positions, original.positions, atol=1e-6)
    np.testing.assert_allclose(rebuilt.local_rotations, original.local_rotations, atol=1e-7)
    np.testing.assert_allclose(rebuilt.root_position, original.root_position, atol=1e-6)
    assert rebuilt.frame == "camera" and rebuilt.calibrated == original.calibrated
    assert decoded.header["skeleton"]["rig"] == "semgcn.humanoid/1"


def test_a_multi_person_frame_describes_each_persons_skeleton_so_none_is_read_with_anothers_state():
    from tests.test_realtime.test_bridges.people_fixtures import people_frames

    stage = SkeletonStage()  # publish: on the stream, as run_live's
    for frame in people_frames(40):  # person 3 from frame 0, 8 from 10, 12 from 30 (30 frames to hold)
        stage.process(frame)
    skeletons = frame.header["skeletons"]
    assert [(e["id"], e["calibrated"]) for e in skeletons] == [(3, True), (8, True), (12, False)]
    assert frame.header["skeleton"]["calibrated"] is True  # version 1's field: the first person
    back = decode(encode(frame))
    rebuilt = {p.id: skeleton_from_arrays(p, back.header) for p in back.people}
    assert {pid: sk.calibrated for pid, sk in rebuilt.items()} == {3: True, 8: True, 12: False}
    for person in frame.people:
        np.testing.assert_allclose(rebuilt[person.id].rest_offsets, person.skeleton.rest_offsets, atol=1e-6)
    others = {"skeleton": {"calibrated": False, "lengths_version": 5},
              "skeletons": [{"id": 12, "calibrated": False, "lengths_version": 5}]}
    stranger = skeleton_from_arrays(PersonPose(id=99, extra_arrays=dict(back.people[0].extra_arrays)), others)
    assert (stranger.calibrated, stranger.lengths_version) == (True, 0)  # no entry of theirs: defaults, not another's
    broken = {"skeletons": [{"id": 3, "lengths_version": "many"}, "junk"]}
    assert skeleton_from_arrays(back.people[0], broken).lengths_version == 0  # a bad header never raises
