"""Pose synthesis from joint rotations: an exact round trip, kept bone lengths, real mixing, tilting."""
from __future__ import annotations

import numpy as np

from realtime.demo.kinematics import POSE_PARAMS, BodyShape, forward_kinematics
from semgcn import skeleton as S
from semgcn.datasets import synthesis as syn


def _poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        angles = {name: rng.uniform(-0.7, 0.7) for name in POSE_PARAMS}
        out.append(forward_kinematics(angles, BodyShape(), rng.uniform(0, 6.3), np.array([0.0, 0.95, 0.0])).joints)
    return np.stack(out)


def test_rotations_round_trip_exactly():
    poses = _poses(20)
    local, chest = syn.local_directions(poses)
    np.testing.assert_allclose(syn.rebuild(poses, local, chest), poses, atol=1e-9)


def test_synthesised_poses_keep_bone_lengths_and_take_a_donors_limb():
    poses = _poses(200, seed=1)
    rng = np.random.default_rng(2)
    out = syn.synthesise(rng, poses, syn.SynthesisOptions(prob=1.0, upper_body_prob=0.0, blend=0.0, tilt_prob=0.0))
    np.testing.assert_allclose(S.bone_lengths(out), S.bone_lengths(poses), atol=1e-9)
    rel = lambda p: p - p[:, :1]  # noqa: E731 - root-relative (a swapped leg may lift the whole body)
    changed = np.abs(rel(out) - rel(poses)).max(axis=2) > 1e-6          # (N, 16) joints moved
    limbs = {"arm": [11, 12], "other arm": [14, 15], "leg": [2, 3], "other leg": [5, 6]}
    moved = np.stack([changed[:, j].any(1) for j in limbs.values()], 1)
    assert (moved.sum(1) <= 1).all() and moved.sum(1).mean() > 0.9      # one limb from a donor, mostly
    assert not changed[:, [0, 1, 4, 7, 8, 10, 13]].any()                 # the torso stays the base's


def test_upper_body_mixing_keeps_the_legs_and_the_feet_on_the_floor():
    poses = _poses(100, seed=3)
    rng = np.random.default_rng(4)
    out = syn.synthesise(rng, poses, syn.SynthesisOptions(prob=1.0, upper_body_prob=1.0, blend=0.0, tilt_prob=0.0))
    legs = [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(out[:, legs] - out[:, :1], poses[:, legs] - poses[:, :1], atol=1e-9)
    ankles = [3, 6]
    np.testing.assert_allclose(out[:, ankles, 1].min(1), poses[:, ankles, 1].min(1), atol=1e-9)
    assert np.abs(out[:, 9] - poses[:, 9]).max() > 0.05                  # the head did move


def test_tilting_lays_bodies_down_and_keeps_them_above_the_floor():
    poses = _poses(300, seed=5)
    out = syn.tilt(np.random.default_rng(6), poses, 90.0)
    np.testing.assert_allclose(out[..., 1].min(1), 0.05, atol=1e-9)
    np.testing.assert_allclose(S.bone_lengths(out), S.bone_lengths(poses), atol=1e-9)
    torso_up = (out[:, 8, 1] - out[:, 0, 1]) / np.linalg.norm(out[:, 8] - out[:, 0], axis=1)
    assert (torso_up < 0.3).mean() > 0.2                                 # many nearly lying
