"""Detection where tracking is unsure: the offline detector runs the person detector again when the
tracked pose looks doubtful, and keeps the better of the two.

In video mode BlazePose places each frame's crop from the previous frame's pose and runs its person
detector only once the pose is lost (``engines.blazepose.pipeline``). That is what live mode can
afford; offline there is time to check. ``RedetectingDetector`` wraps ``engines.detector.PoseDetector``
(nothing in ``engines`` changes) and, for a frame where the tracked pose is *unsure*:

* tracking lost the person (no pose) although the previous frame had one,
* the tracked pose is weak: the mean confidence of its 16 joints is under ``min_confidence``,
* the tracked pose jumps: its 2D joints move faster than ``jump_speed`` body sizes per second
  (``realtime.core.temporal.body_speed_2d``; a crop that slid onto something else),

runs ``detect_image`` on that frame (the person detector on the whole image, no state touched) and
keeps the candidate when its mean joint confidence beats the tracked pose's by ``margin``. The
tracker is then re-seeded from the detection (``reset`` and the same frame again), so that the frames
after it follow the better pose. A frame where the person detector already ran is never re-checked.

It is a callable with the detector's own signature, so ``realtime.core.pipeline.Pipeline`` uses it
unchanged. A detector that returns several people (a list) is passed through untouched: choosing among
several tracks is that detector's own business.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from realtime.core.temporal import body_speed_2d


@dataclass
class RedetectOptions:
    """When the tracked pose counts as unsure (module docstring).

    Attributes:
        enabled: False: the detector exactly as live mode runs it.
        min_confidence: mean joint confidence under which a tracked pose is re-checked.
        jump_speed: 2D median joint speed (body sizes per second) above which it is re-checked.
        margin: how much higher the candidate's mean confidence must be to replace the tracked pose.
    """

    enabled: bool = True
    min_confidence: float = 0.6
    jump_speed: float = 8.0
    margin: float = 0.05


@dataclass
class RedetectCounts:
    """What the wrapper did: frames checked, by reason, and frames where the detection won."""

    checked: int = 0
    replaced: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: {"lost": 0, "weak": 0, "jump": 0})

    def as_dict(self) -> dict:
        return {"checked": self.checked, "replaced": self.replaced, **self.reasons}


def mean_confidence(detection) -> float:
    return float(np.mean(detection.confidence)) if detection is not None else -1.0


class RedetectingDetector:
    """``PoseDetector`` in video mode, checked by single-image detection where tracking is unsure.

    It offers both ways the pipeline calls a detector: ``track(image, timestamp) -> list`` (every person
    with a ``track_id``) and the single-person ``__call__(image, timestamp) -> detection | None``.

    Args:
        detector: an ``engines.detector.PoseDetector`` (``track`` or ``__call__``, ``detect_image``, ``reset``).
        options: ``RedetectOptions``.
    """

    def __init__(self, detector, options: RedetectOptions | None = None):
        self.detector = detector
        self.options = options or RedetectOptions()
        self.counts = RedetectCounts()
        self._previous = None
        self._previous_t: float | None = None
        self._fallback_ids = 0

    def track(self, image: np.ndarray, timestamp: float | None = None) -> list:
        """Every person in the frame: the detector's own tracks, checked when it follows one person."""
        if not hasattr(self.detector, "track"):
            found = self(image, timestamp)
            return [] if found is None else [found]
        if getattr(getattr(self.detector, "options", None), "max_people", 1) > 1 or not self.options.enabled:
            return self.detector.track(image, timestamp=timestamp)

        def tracked():
            people = self.detector.track(image, timestamp=timestamp)
            return people[0] if people else None
        found = self._follow(image, timestamp, tracked)
        return [] if found is None else [found]

    def __call__(self, image: np.ndarray, timestamp: float | None = None):
        """The single-person detector's call, checked (module docstring)."""
        if not self.options.enabled:
            return self.detector(image, timestamp=timestamp)
        return self._follow(image, timestamp, lambda: self.detector(image, timestamp=timestamp))

    def _follow(self, image: np.ndarray, timestamp: float | None, tracked_pose):
        tracked = tracked_pose()
        reason = self._unsure(tracked, timestamp)
        if reason is not None:
            tracked = self._check(image, tracked, reason, tracked_pose)
        self._previous, self._previous_t = tracked, timestamp
        return tracked

    def _unsure(self, tracked, timestamp: float | None) -> str | None:
        if tracked is None:
            return "lost" if self._previous is not None else None
        if getattr(tracked, "detected", False):  # the person detector ran for this very frame
            return None
        if mean_confidence(tracked) < self.options.min_confidence:
            return "weak"
        if self._previous is not None and timestamp is not None and self._previous_t is not None:
            dt = timestamp - self._previous_t
            if dt > 0 and body_speed_2d(self._previous.keypoints_2d, tracked.keypoints_2d, dt) > self.options.jump_speed:
                return "jump"
        return None

    def _check(self, image: np.ndarray, tracked, reason: str, tracked_pose):
        self.counts.checked += 1
        self.counts.reasons[reason] += 1
        candidate = self.detector.detect_image(image)
        if candidate is None or mean_confidence(candidate) <= mean_confidence(tracked) + self.options.margin:
            return tracked
        self.counts.replaced += 1
        self.detector.reset()  # re-seed the tracker from the person detector on this very frame
        seeded = tracked_pose()
        if seeded is not None:
            return seeded
        self._fallback_ids -= 1  # the single image's pose, on a track of its own
        candidate.track_id = self._fallback_ids
        return candidate

    def reset(self) -> None:
        """Before another input or chunk: the detector's tracking and this wrapper's memory."""
        self.detector.reset()
        self._previous = self._previous_t = None


class EveryFrameDetector:
    """No tracking at all: the person detector on every frame (``detect_image``), one track.

    Nothing carries from one frame to the next, so a chunk gives exactly what one pass gives; it costs
    the person detector on every frame, and loses what tracking adds (``docs/offline.md`` measures both).
    """

    def __init__(self, detector):
        self.detector = detector
        self.counts = RedetectCounts()

    def track(self, image: np.ndarray, timestamp: float | None = None) -> list:
        found = self(image, timestamp)
        return [] if found is None else [found]

    def __call__(self, image: np.ndarray, timestamp: float | None = None):
        found = self.detector.detect_image(image)
        if found is not None:
            found.track_id = 0  # one person: the tracks of pass 2 split where the 2D pose jumps
        return found

    def reset(self) -> None:
        self.detector.reset()
