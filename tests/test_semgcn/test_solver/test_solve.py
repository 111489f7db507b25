"""The per-frame solve on poses made with the rig: exact where the joints say everything, twist from
landmarks where they do not, joint limits, and continuity over a smooth motion."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from semgcn.solver.axes import CAMERA_TO_SOLVER
from semgcn.solver.geometry import axis_angle
from semgcn.solver.parts import part_orientations
from semgcn.solver.pose import forward_kinematics
from semgcn.solver.rig import BONE_INDEX, BONE_NAMES, HINGES
from semgcn.solver.solve import SkeletonSolver
from tests.test_semgcn.test_solver.poses import LENGTHS, REST, X, angle_deg, landmarks_of, pose_of, random_locals

OBSERVABLE = ("Hips", "LeftUpperArm", "LeftLowerArm", "RightUpperArm", "RightLowerArm", "LeftUpperLeg",
              "LeftLowerLeg", "RightUpperLeg", "RightLowerLeg")


def test_bent_limbs_give_back_every_position_and_the_rotations_the_joints_determine():
    rng = np.random.default_rng(0)
    solver = SkeletonSolver()
    for _ in range(100):
        positions, rotations, joints = pose_of(random_locals(rng))
        solved = solver.solve(joints, LENGTHS, root=joints[0])
        np.testing.assert_allclose(solved.positions, positions, atol=1e-9)
        for name in OBSERVABLE:  # the elbow / knee hinge fixes the upper bone's twist
            i = BONE_INDEX[name]
            assert angle_deg(solved.global_rotations[i], rotations[i]) < 1e-4, name
        assert solved.sources["LeftUpperArm"] == "hinge" and solved.sources["LeftHand"] == "swing"
        # forward kinematics of the local rotations and rest offsets is the solved skeleton
        fk, _ = forward_kinematics(solved.rest_offsets, solved.local_rotations, solved.root_position)
        np.testing.assert_allclose(fk, solved.positions, atol=1e-9)
        np.testing.assert_allclose(np.linalg.norm(solved.local_rotations, axis=1), 1.0, atol=1e-12)


def test_landmarks_give_the_head_hands_and_feet_and_the_forearm_twist():
    rng = np.random.default_rng(1)
    solver = SkeletonSolver()
    turn = Rotation.from_rotvec([0.05, -0.1, 0.08]).as_matrix()  # the landmark model's axes differ a little
    worst = dict.fromkeys(("Head", "LeftHand", "RightHand", "LeftFoot", "RightFoot", "LeftLowerArm"), 0.0)
    for _ in range(60):
        local = random_locals(rng)
        for side in ("Left", "Right"):  # pronation within the forearm's limit
            local[BONE_INDEX[f"{side}LowerArm"]] = local[BONE_INDEX[f"{side}LowerArm"]] @ axis_angle(X, rng.uniform(-1, 1))
        positions, rotations, joints = pose_of(local)
        landmarks = (landmarks_of(positions, rotations, joints) - joints[0]) @ CAMERA_TO_SOLVER @ turn.T * 1.1
        parts = part_orientations(landmarks, np.full(33, 0.9), joints)
        solved = solver.solve(joints, LENGTHS, root=joints[0], parts=parts)
        assert solved.sources["Head"] == solved.sources["LeftFoot"] == "landmarks"
        for name in worst:
            i = BONE_INDEX[name]
            worst[name] = max(worst[name], angle_deg(solved.global_rotations[i], rotations[i]))
        np.testing.assert_allclose(solved.positions, positions, atol=1e-9)
    assert max(worst.values()) < 0.5, worst  # degrees


def test_without_visible_landmarks_the_parts_fall_back_to_swing_only():
    rng = np.random.default_rng(2)
    positions, rotations, joints = pose_of(random_locals(rng))
    landmarks = landmarks_of(positions, rotations, joints)
    visibility = np.full(33, 0.95)
    visibility[[19, 17]] = 0.1  # the left hand's index and pinky are hidden
    parts = part_orientations(landmarks, visibility, joints)
    assert "LeftHand" not in parts and "RightHand" in parts
    solved = SkeletonSolver().solve(joints, LENGTHS, root=joints[0], parts=parts)
    hand, forearm = BONE_INDEX["LeftHand"], BONE_INDEX["LeftLowerArm"]
    assert solved.sources["LeftHand"] == "swing"
    assert angle_deg(solved.global_rotations[hand], solved.global_rotations[forearm]) < 1e-4


@pytest.mark.parametrize("name", ["LeftLowerLeg", "RightLowerArm"])
def test_a_joint_bent_the_wrong_way_stays_straight_instead_of_twisting_the_limb_round(name):
    rng = np.random.default_rng(3)
    local = random_locals(rng)
    i = BONE_INDEX[name]
    hinge = np.asarray(HINGES[name].axis, dtype=np.float64)
    local[i] = axis_angle(hinge, -math.radians(40))  # a knee bent forward / an elbow bent backward
    positions, rotations, joints = pose_of(local)
    solved = SkeletonSolver().solve(joints, LENGTHS, root=joints[0])
    upper = BONE_INDEX[name.replace("Lower", "Upper")]
    knee = solved.global_rotations[upper].T @ solved.global_rotations[i]  # the solved local rotation
    rest_dir = REST[i + 1] / np.linalg.norm(REST[i + 1])
    d = knee @ rest_dir
    assert d @ np.cross(hinge, rest_dir) >= -1e-9  # no flexion the wrong way...
    assert math.degrees(math.acos(d @ rest_dir)) <= math.degrees(HINGES[name].max_off_axis) + 1e-6  # ...at most sideways
    twist = angle_deg(solved.global_rotations[upper], rotations[upper])
    assert twist < 115, twist  # not turned round by 180 degrees to bend it "forward"
    end = i + 1
    chord = 2 * np.linalg.norm(REST[end]) * math.sin(math.radians(40) / 2)
    error = np.linalg.norm(solved.positions[end] - positions[end])
    assert 0.5 * chord < error <= chord + 1e-9  # the price of the limit, and no more


def test_smooth_motion_gives_smooth_rotations_with_no_sign_flips():
    rng = np.random.default_rng(4)
    keys = [random_locals(rng, bend=(0.0, 1.5)) for _ in range(5)]  # some limbs pass through straight
    steps = np.linspace(0, 4, 241)
    solver = SkeletonSolver()
    previous, truth_previous, worst_step, worst_truth = None, None, np.zeros(19), np.zeros(19)
    for t in steps:
        a, frac = min(int(t), 3), t - min(int(t), 3)
        local = np.stack([Slerp([0, 1], Rotation.from_matrix([keys[a][b], keys[a + 1][b]]))(frac).as_matrix()
                          for b in range(19)])
        positions, rotations, joints = pose_of(local)
        landmarks = landmarks_of(positions, rotations, joints)
        solved = solver.solve(joints, LENGTHS, root=joints[0], parts=part_orientations(landmarks, None, joints))
        if previous is not None:
            assert np.all(np.sum(solved.local_rotations * previous.local_rotations, axis=1) >= 0)
            for b in range(19):
                worst_step[b] = max(worst_step[b], angle_deg(solved.global_rotations[b], previous.global_rotations[b]))
                worst_truth[b] = max(worst_truth[b], angle_deg(rotations[b], truth_previous[b]))
        previous, truth_previous = solved, rotations
    excess = {BONE_NAMES[b]: round(worst_step[b] - worst_truth[b], 2) for b in range(19)}
    assert max(excess.values()) < 3.0, excess  # degrees per frame beyond the motion's own
