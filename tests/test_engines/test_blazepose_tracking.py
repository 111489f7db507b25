"""MediaPipe-style smoothing of tracked landmarks."""
import numpy as np

from engines.blazepose.tracking import LandmarkSmoother, object_scale

SIZE = (640, 480)


def _frame(rng, jitter):
    lm = np.zeros((33, 5), np.float32)
    lm[:, 0] = np.linspace(0.4, 0.6, 33) + rng.normal(0, jitter, 33)
    lm[:, 1] = np.linspace(0.2, 0.8, 33) + rng.normal(0, jitter, 33)
    lm[:, 3:] = 0.9
    aux = np.array([[0.5, 0.6, 0, 0.9, 0.9], [0.5, 0.4, 0, 0.9, 0.9]], np.float32)
    return lm, aux


def test_object_scale_is_the_alignment_square():
    aux = np.array([[0.5, 0.5], [0.5, 0.25]], np.float32)   # 120 px apart on a 480 px high image
    assert abs(float(object_scale(aux, SIZE)) - 240.0) < 1e-3


def test_smoothing_reduces_jitter_and_can_be_switched_off():
    rng = np.random.default_rng(0)
    frames = [_frame(rng, 0.002) for _ in range(60)]
    on, off = LandmarkSmoother(True), LandmarkSmoother(False)
    out_on = np.stack([on(lm, aux, None, (k + 1) / 30, SIZE)[0][:, :2] for k, (lm, aux) in enumerate(frames)])
    out_off = np.stack([off(lm, aux, None, (k + 1) / 30, SIZE)[0][:, :2] for k, (lm, aux) in enumerate(frames)])
    raw = np.stack([lm[:, :2] for lm, _ in frames])
    np.testing.assert_allclose(out_off, raw)                      # off: landmarks untouched
    assert out_on[20:].std(axis=0).mean() < 0.6 * raw[20:].std(axis=0).mean()


def test_lost_restarts_positions_but_keeps_visibility():
    rng = np.random.default_rng(1)
    smoother = LandmarkSmoother(True)
    lm, aux = _frame(rng, 0.0)
    smoother(lm, aux, None, 1 / 30, SIZE)
    smoother.lost()
    moved = lm.copy()
    moved[:, 0] += 0.1
    moved[:, 3] = 0.1
    out = smoother(moved, aux, None, 2 / 30, SIZE)[0]
    np.testing.assert_allclose(out[:, 0], moved[:, 0], atol=1e-6)     # fresh position filter
    assert np.all(out[:, 3] > 0.7)                                    # visibility low-pass kept
