"""One Euro filter for arrays of points (numpy), with MediaPipe's conventions.

The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a low-pass filter whose cutoff rises
with the signal's speed: still points are smoothed hard (little jitter), moving points lightly
(little lag). This version filters a whole (K, D) array (K points, D coordinates) per call and
follows MediaPipe's OneEuroFilter so that our landmarks match MediaPipe Pose:

* the sampling frequency is re-estimated from the timestamps of consecutive calls;
* the speed is measured from the previous *raw* value and multiplied by ``value_scale`` (MediaPipe
  passes 1 / object size, so the speed is in object sizes per second);
* a timestamp that does not advance returns the input unfiltered and changes nothing.

Reusable by anything that smooths keypoints (realtime/filters.py, the detector's tracking).
"""
from __future__ import annotations

import math

import numpy as np


class LowPassFilter:
    """Exponential smoothing ``y = alpha * x + (1 - alpha) * y_prev`` of an array.

    Args:
        alpha: default smoothing factor in (0, 1]; 1 = no smoothing.
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha
        self.last_raw: np.ndarray | None = None
        self.last_filtered: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the history."""
        self.last_raw = self.last_filtered = None

    def __call__(self, value: np.ndarray, alpha: float | np.ndarray | None = None) -> np.ndarray:
        """Filter ``value`` with ``alpha`` (default: the constructor's); returns the filtered array."""
        value = np.asarray(value, np.float64)
        a = self.alpha if alpha is None else alpha
        if self.last_filtered is None or self.last_filtered.shape != value.shape:
            filtered = value.copy()
        else:
            filtered = a * value + (1.0 - a) * self.last_filtered
        self.last_raw, self.last_filtered = value.copy(), filtered
        return filtered.copy()  # the caller may change its copy; the state must not change


class OneEuroFilter:
    """One Euro filter of a (K, D) array; every element is filtered independently.

    Args:
        min_cutoff: cutoff frequency (Hz) of a still signal; lower = smoother, more lag.
        beta: how fast the cutoff grows with speed; higher = less lag on fast moves.
        derivate_cutoff: cutoff frequency (Hz) of the speed estimate.
        frequency: sampling frequency (Hz) assumed until two timestamps have been seen.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, derivate_cutoff: float = 1.0,
                 frequency: float = 30.0):
        if min_cutoff <= 0 or derivate_cutoff <= 0 or frequency <= 0 or beta < 0:
            raise ValueError("OneEuroFilter needs min_cutoff > 0, derivate_cutoff > 0, frequency > 0, "
                             f"beta >= 0 (got {min_cutoff}, {derivate_cutoff}, {frequency}, {beta})")
        self.min_cutoff, self.beta, self.derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self.initial_frequency = frequency
        self.reset()

    def reset(self) -> None:
        """Forget the history (call it when the tracked object is lost or a new video starts)."""
        self.frequency = self.initial_frequency
        self.last_time: float | None = None
        self._x = LowPassFilter()
        self._dx = LowPassFilter()

    def _alpha(self, cutoff: float | np.ndarray) -> float | np.ndarray:
        te = 1.0 / self.frequency
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def __call__(self, value: np.ndarray, timestamp: float, value_scale: float = 1.0) -> np.ndarray:
        """Filter ``value`` observed at ``timestamp`` seconds.

        Args:
            value: (K, D) or any-shaped array; NaN elements pass through and poison nothing else.
            timestamp: seconds, increasing from call to call.
            value_scale: multiplies the speed (e.g. 1 / object size in the value's units).

        Returns:
            The filtered array (float64, same shape).
        """
        value = np.asarray(value, np.float64)
        if self.last_time is not None and timestamp <= self.last_time:
            return value.copy()
        finite = np.isfinite(value)
        if not finite.all():
            # A missing element (NaN) stays missing in the output; the state carries on with the
            # last raw value there (zero speed) so the gap does not poison later frames.
            fallback = self._x.last_raw if self._x.last_raw is not None and \
                self._x.last_raw.shape == value.shape else np.zeros_like(value)
            out = self(np.where(finite, value, fallback), timestamp, value_scale)
            out[~finite] = np.nan
            return out
        if self.last_time is not None:
            self.frequency = 1.0 / (timestamp - self.last_time)
        self.last_time = timestamp
        previous = self._x.last_raw
        if previous is None or previous.shape != value.shape:
            speed = np.zeros_like(value)
        else:
            speed = (value - previous) * value_scale * self.frequency
        smoothed_speed = self._dx(speed, self._alpha(self.derivate_cutoff))
        cutoff = self.min_cutoff + self.beta * np.abs(smoothed_speed)
        return self._x(value, self._alpha(cutoff))
