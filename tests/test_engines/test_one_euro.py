"""The numpy One Euro filter (MediaPipe's conventions)."""
import math

import numpy as np
import pytest

from engines.one_euro import LowPassFilter, OneEuroFilter


def _reference(values, times, min_cutoff, beta, dcutoff, scale):
    """Scalar transcription of MediaPipe's OneEuroFilter::Apply, for comparison."""
    out, x_prev_raw, x_hat, dx_hat, last_t, freq = [], None, None, None, None, 30.0
    alpha = lambda cutoff: 1.0 / (1.0 + (1.0 / (2 * math.pi * cutoff)) / (1.0 / freq))  # noqa: E731
    for v, t in zip(values, times):
        if last_t is not None:
            freq = 1.0 / (t - last_t)
        last_t = t
        dv = 0.0 if x_prev_raw is None else (v - x_prev_raw) * scale * freq
        a_d = alpha(dcutoff)
        dx_hat = dv if dx_hat is None else a_d * dv + (1 - a_d) * dx_hat
        a = alpha(min_cutoff + beta * abs(dx_hat))
        x_hat = v if x_hat is None else a * v + (1 - a) * x_hat
        x_prev_raw = v
        out.append(x_hat)
    return np.array(out)


def test_matches_a_scalar_reference_on_every_element():
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(size=(50, 3, 2)), axis=0)
    times = np.cumsum(rng.uniform(0.02, 0.05, size=50))
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    ours = np.stack([f(v, t, value_scale=0.01) for v, t in zip(values, times)])
    for k in range(3):
        for d in range(2):
            ref = _reference(values[:, k, d], times, 0.05, 80.0, 1.0, 0.01)
            np.testing.assert_allclose(ours[:, k, d], ref, rtol=1e-9, atol=1e-9)


def test_constant_signal_passes_and_jitter_is_reduced():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out = [f(np.full((2, 2), 5.0), t / 30) for t in range(1, 10)]
    np.testing.assert_allclose(out[-1], 5.0)
    rng = np.random.default_rng(1)
    noisy = 5.0 + rng.normal(scale=1.0, size=(200, 4, 2))
    f.reset()
    smoothed = np.stack([f(v, t / 30) for t, v in enumerate(noisy, start=1)])
    assert smoothed[50:].std() < 0.5 * noisy[50:].std()


def test_beta_reduces_lag_on_fast_moves():
    ramp = [np.array([[t * 10.0]]) for t in range(30)]
    slow, fast = OneEuroFilter(1.0, 0.0), OneEuroFilter(1.0, 1.0)
    lag_slow = ramp[-1] - [slow(v, (i + 1) / 30) for i, v in enumerate(ramp)][-1]
    lag_fast = ramp[-1] - [fast(v, (i + 1) / 30) for i, v in enumerate(ramp)][-1]
    assert 0 <= lag_fast[0, 0] < lag_slow[0, 0]


def test_stale_timestamp_returns_input_and_nan_does_not_stick():
    f = OneEuroFilter(1.0, 0.0)
    f(np.zeros((1, 2)), 1.0)
    np.testing.assert_array_equal(f(np.ones((1, 2)), 1.0), np.ones((1, 2)))  # not newer: untouched
    out = f(np.array([[np.nan, 1.0]]), 2.0)
    assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1])
    assert np.isfinite(f(np.array([[1.0, 1.0]]), 3.0)).all()


def test_low_pass_and_bad_arguments():
    lp = LowPassFilter(0.1)
    assert lp(np.array([10.0]))[0] == 10.0
    assert math.isclose(lp(np.array([0.0]))[0], 9.0)
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)
