"""Bone lengths held from a robust warm-up estimate; refined slowly; restarted for another person."""
from __future__ import annotations

import numpy as np

from semgcn.solver.lengths import BoneLengthEstimator, LengthOptions
from semgcn.solver.rig import joint_lengths, standing_height
from tests.test_semgcn.test_solver.poses import LENGTHS, pose_of, random_locals


def _noisy_frames(n: int, seed: int, scale: float = 1.0, jitter: float = 0.01, outliers: float = 0.2):
    """Joints of a rigid body in random poses, with lifter-like jitter and some grossly wrong frames."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        joints = pose_of(random_locals(rng))[2] * scale
        joints = joints + rng.normal(0, jitter, joints.shape)
        if rng.random() < outliers:
            joints[rng.integers(1, 16)] += rng.normal(0, 0.3, 3)  # a joint far off
        yield joints


def test_the_warm_up_ignores_outliers_and_the_lengths_are_then_held_bit_for_bit():
    estimator = BoneLengthEstimator(LengthOptions(warmup_frames=30))
    frames = list(_noisy_frames(200, seed=0))
    for joints in frames[:29]:
        estimator.update(joints)
        assert not estimator.held
    held = estimator.update(frames[29]).copy()
    assert estimator.held and estimator.version == 1
    relative = np.abs(held[1:] - LENGTHS[1:]) / LENGTHS[1:]
    assert relative.max() < 0.04, relative  # 20 % of the frames had a joint 30 cm off
    for joints in frames[30:]:
        assert (estimator.update(joints) == held).all()
    assert held[2] == held[5] and held[11] == held[14]  # left and right averaged


def test_low_confidence_bones_are_left_out():
    estimator = BoneLengthEstimator(LengthOptions(warmup_frames=10))
    confidence = np.ones(16)
    confidence[12] = 0.0  # the left wrist is never seen: the left forearm comes from the right one
    for joints in _noisy_frames(10, seed=1, jitter=0.0, outliers=0.0):
        joints[12] += 0.5  # and wherever it is, it is not counted
        lengths = estimator.update(joints, confidence)
    assert abs(lengths[12] - LENGTHS[15]) < 1e-9


def test_refinement_moves_the_held_lengths_slowly_and_another_person_restarts_the_estimate():
    options = LengthOptions(warmup_frames=30, refine_every_frames=100, refine_window=100)
    estimator = BoneLengthEstimator(options)
    for joints in _noisy_frames(30, seed=2, outliers=0.0):
        estimator.update(joints)
    first = estimator.lengths.copy()
    for joints in _noisy_frames(100, seed=3, scale=1.1, outliers=0.0):  # 10 % larger: within change_ratio
        estimator.update(joints)
    assert estimator.version == 2
    np.testing.assert_allclose(estimator.lengths[1:], first[1:] * 1.05, rtol=0.03)  # half-way there
    for joints in _noisy_frames(29, seed=4, scale=1.5, outliers=0.0):  # 50 % larger: somebody else
        estimator.update(joints)
    assert estimator.held
    estimator.update(next(_noisy_frames(1, seed=5, scale=1.5, outliers=0.0)))
    assert not estimator.held and estimator.version == 0  # a new warm-up has begun


def test_a_target_height_scales_the_rig_to_it():
    estimator = BoneLengthEstimator(LengthOptions(warmup_frames=5, target_height=1.80))
    for joints in _noisy_frames(5, seed=6, scale=0.5, jitter=0.0, outliers=0.0):
        lengths = estimator.update(joints)
    assert abs(standing_height(lengths) - 1.80) < 1e-9
    np.testing.assert_allclose(lengths[1:] / lengths[1:].sum(), LENGTHS[1:] / LENGTHS[1:].sum(), atol=1e-9)


def test_non_finite_joints_are_skipped():
    estimator = BoneLengthEstimator(LengthOptions(warmup_frames=2))
    bad = np.full((16, 3), np.nan)
    assert estimator.update(bad) is None and not estimator.held
    good = next(_noisy_frames(1, seed=7, jitter=0.0, outliers=0.0))
    np.testing.assert_allclose(estimator.update(good)[1:], joint_lengths(good)[1:], rtol=0.2)
