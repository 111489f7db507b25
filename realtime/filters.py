"""Optional temporal smoothing of the 3D joints: a One Euro filter per coordinate.

The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a low-pass filter whose cut-off rises
with speed: still poses lose their jitter, fast moves keep little lag. It needs no future frames, so
it adds no latency. The filter restarts when the person leaves the frame or after a long gap, so that
a new person is never pulled towards the last pose of the previous one.

``engines.one_euro.OneEuroFilter`` is used when it exists (the detector's landmark smoothing); this
module keeps its own small implementation otherwise, with the same equations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class SmoothingOptions:
    """Options of ``PoseSmoother``.

    Attributes:
        min_cutoff_hz: cut-off frequency at rest; lower removes more jitter (and adds lag when slow).
        beta: how fast the cut-off rises with speed (per m/s); higher follows fast moves more closely.
        derivative_cutoff_hz: cut-off of the speed estimate itself.
        max_gap_s: restart the filter when two frames are further apart than this.
    """

    # MediaPipe Pose filters its metric world landmarks with these values.
    min_cutoff_hz: float = 0.1
    beta: float = 40.0
    derivative_cutoff_hz: float = 1.0
    max_gap_s: float = 0.5


def _alpha(cutoff_hz, dt: float):
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroArray:
    """A One Euro filter over a fixed-shape float array (every element filtered independently).

    Args:
        options: ``SmoothingOptions``.
    """

    def __init__(self, options: SmoothingOptions | None = None):
        self.options = options or SmoothingOptions()
        self.reset()

    def reset(self) -> None:
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, value: np.ndarray, t: float) -> np.ndarray:
        """Filter ``value`` observed at time ``t`` (seconds); returns the smoothed array (float64)."""
        value = np.asarray(value, dtype=np.float64)
        opts = self.options
        if self._value is None or self._t is None or not (0.0 < t - self._t <= opts.max_gap_s) \
                or self._value.shape != value.shape:
            self._value, self._speed, self._t = value.copy(), np.zeros_like(value), t
            return value.copy()
        dt = t - self._t
        speed = (value - self._value) / dt
        self._speed = self._speed + _alpha(opts.derivative_cutoff_hz, dt) * (speed - self._speed)
        cutoff = opts.min_cutoff_hz + opts.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff, dt) * (value - self._value)
        self._t = t
        return self._value.copy()


class PoseSmoother:
    """Smooths a stream of ``(16, 3)`` poses; pass None for a frame without a person to restart.

    Args:
        options: ``SmoothingOptions``.
    """

    def __init__(self, options: SmoothingOptions | None = None):
        self.options = options or SmoothingOptions()
        self._filter = OneEuroArray(self.options)

    def __call__(self, joints_3d: np.ndarray | None, t: float) -> np.ndarray | None:
        """The smoothed pose (float32), or None (and a restart) when ``joints_3d`` is None or not finite."""
        if joints_3d is None or not np.all(np.isfinite(joints_3d)):
            self._filter.reset()
            return None
        return self._filter(joints_3d, t).astype(np.float32)

    def reset(self) -> None:
        self._filter.reset()
