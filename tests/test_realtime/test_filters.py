"""The 3D pose smoother: less jitter at rest, little lag in motion, restarts when the person is lost."""
from __future__ import annotations

import numpy as np

from realtime.filters import PoseSmoother, SmoothingOptions

FPS = 30.0


def _base_pose() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 0.3, (16, 3)).astype(np.float32)


def test_first_pose_passes_unchanged_as_float32():
    smoother = PoseSmoother()
    pose = _base_pose()
    out = smoother(pose, 0.0)
    assert out.dtype == np.float32 and out.shape == (16, 3)
    np.testing.assert_allclose(out, pose, atol=1e-6)


def test_jitter_of_a_still_pose_is_reduced():
    rng = np.random.default_rng(1)
    base = _base_pose()
    smoother = PoseSmoother()
    raw, smooth = [], []
    for i in range(120):
        noisy = base + rng.normal(0, 0.01, base.shape).astype(np.float32)  # 1 cm of detector jitter
        raw.append(noisy)
        smooth.append(smoother(noisy, i / FPS))
    raw_err = np.linalg.norm(np.array(raw[30:]) - base, axis=-1).mean()
    smooth_err = np.linalg.norm(np.array(smooth[30:]) - base, axis=-1).mean()
    assert smooth_err < 0.5 * raw_err


def test_a_steady_motion_is_followed_with_little_lag():
    base = _base_pose()
    smoother = PoseSmoother()
    velocity = np.array([1.0, 0.0, 0.0], np.float32)  # 1 m/s sideways
    for i in range(60):
        t = i / FPS
        out = smoother(base + velocity * t, t)
    lag_m = np.abs(out - (base + velocity * t))[:, 0].max()
    assert lag_m < 0.05


def test_losing_the_person_or_a_long_gap_restarts_the_filter():
    smoother = PoseSmoother(SmoothingOptions(max_gap_s=0.5))
    a, b = _base_pose(), _base_pose() + 1.0
    smoother(a, 0.0)
    smoother(a, 1 / FPS)
    assert np.abs(smoother(b, 2 / FPS) - b).max() > 0.1  # filtered: pulled towards a
    assert smoother(None, 3 / FPS) is None
    np.testing.assert_allclose(smoother(b, 4 / FPS), b, atol=1e-6)  # restarted: passes through
    np.testing.assert_allclose(smoother(a, 10.0), a, atol=1e-6)       # gap of seconds: restarted
    nan_pose = a.copy()
    nan_pose[3, 1] = np.nan
    assert smoother(nan_pose, 10.03) is None
    np.testing.assert_allclose(smoother(b, 10.06), b, atol=1e-6)
