"""Optional temporal smoothing of the 3D joints with the One Euro filter (``engines.one_euro``).

The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a low-pass filter whose cut-off rises
with speed: still poses lose their jitter, fast moves keep little lag. It needs no future frames, so
it adds no latency of its own. ``JointSmoother`` filters one person's pose stream and restarts when
the person leaves the frame, when the pose is not finite, or after a long gap between frames, so that a
new person is never pulled towards the last pose of the previous one. ``SmoothingStage`` is the
pipeline stage: one ``JointSmoother`` per person id.

Why smooth in 3D when the detector already smooths its 2D landmarks (``engines.blazepose.tracking``):
the 2D smoothing is part of BlazePose's tracking, kept for parity with MediaPipe, and works in pixels;
the lifter turns the small 2D jitter that remains into depth and bone-length jitter that no 2D filter
sees, and this stage removes it in metres (measured in docs/architecture.md, "Two smoothers").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.one_euro import OneEuroFilter
from realtime.core.per_person import PerPerson
from realtime.core.records import FrameResult


@dataclass
class SmoothingOptions:
    """Options of ``JointSmoother``.

    Attributes:
        min_cutoff_hz: cut-off frequency at rest; lower removes more jitter (and lags more when slow).
        beta: how fast the cut-off rises with speed (per m/s); higher follows fast moves more closely.
        derivative_cutoff_hz: cut-off of the speed estimate itself.
        max_gap_s: restart the filter when two frames are further apart than this.
    """

    # Tuned for joints in metres at 15-60 fps: ~1 cm of frame-to-frame jitter at rest drops to about
    # a third, and a joint moving at 1 m/s lags by ~3 cm (tests/test_realtime/test_core/test_smoothing.py).
    min_cutoff_hz: float = 1.0
    beta: float = 4.0
    derivative_cutoff_hz: float = 1.0
    max_gap_s: float = 0.5


class JointSmoother:
    """Smooths one stream of ``(16, 3)`` poses; pass None for a frame without the person to restart.

    Args:
        options: ``SmoothingOptions``; defaults when None.
    """

    def __init__(self, options: SmoothingOptions | None = None):
        self.options = options or SmoothingOptions()
        self._filter = OneEuroFilter(min_cutoff=self.options.min_cutoff_hz, beta=self.options.beta,
                                     derivate_cutoff=self.options.derivative_cutoff_hz)
        self._last_t: float | None = None

    def __call__(self, joints_3d: np.ndarray | None, t: float) -> np.ndarray | None:
        """Smooth the pose seen at time ``t`` (seconds).

        Args:
            joints_3d: ``(16, 3)`` metres, or None when nobody was found.
            t: capture time of the frame in seconds.
        Returns:
            the smoothed pose (float32), or None (and a restart) when ``joints_3d`` is None or not finite.
        """
        if joints_3d is None or not np.all(np.isfinite(joints_3d)):
            self.reset()
            return None
        if self._last_t is not None and not 0.0 < t - self._last_t <= self.options.max_gap_s:
            self.reset()
        self._last_t = t
        return self._filter(np.asarray(joints_3d, np.float64), t).astype(np.float32)

    def reset(self) -> None:
        """Forget the history (the next pose passes through unchanged)."""
        self._filter.reset()
        self._last_t = None


class SmoothingStage:
    """The pipeline stage that smooths every person's ``joints_3d`` in place, one filter per person id.

    A person id that is not in a frame loses its filter, so a person who comes back starts afresh.

    Args:
        options: ``SmoothingOptions`` for every person's filter.
    """

    name = "smooth"

    def __init__(self, options: SmoothingOptions | None = None):
        self.options = options or SmoothingOptions()
        self._smoothers: PerPerson[JointSmoother] = PerPerson(lambda: JointSmoother(self.options))

    def process(self, result: FrameResult) -> None:
        for person, smoother in self._smoothers.for_frame(result.people):
            smoothed = smoother(person.joints_3d, result.timestamp)
            if smoothed is not None:
                person.joints_3d = smoothed

    def reset(self) -> None:
        """Forget every person's history."""
        self._smoothers.clear()
