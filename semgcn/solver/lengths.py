"""Bone lengths of one person, estimated online: robust over the first frames, then held constant.

The lifter's bones change length from frame to frame (a forearm 10 % longer in one frame than in the
next), while a rig needs constant ones. :class:`BoneLengthEstimator` collects the 15 canonical bone
lengths of the first ``warmup_frames`` frames with a person, keeps only bones whose two joints the
detector saw, discards outliers (beyond ``outlier_mads`` median absolute deviations of each bone's
median) and takes the median; left and right are averaged (people are close to symmetric, and the
lifter's left-right noise is not). From then on the lengths are *held*: constant to the last bit, so
that receivers see a rigid skeleton. They are refined slowly: every ``refine_every_frames`` frames the
same robust estimate over the recent ``refine_window`` frames is compared with the held lengths, and
only when a bone differs by more than ``refine_threshold`` are they moved a fraction ``refine_rate``
towards it (a new ``version``). A body that stays more than ``change_ratio`` larger or smaller than the
held one for ``change_frames`` frames is another person: the estimate starts again.

With a target height the lengths are scaled so that the rig's T-pose is that tall (floor to the top of
the head, ``semgcn.solver.rig.standing_height``), whatever scale the input has.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from semgcn.skeleton import FLIP_PAIRS, NUM_JOINTS, PARENTS
from semgcn.solver.rig import standing_height

_CHILDREN = np.arange(1, NUM_JOINTS)
_PARENT_OF = np.array(PARENTS[1:])


@dataclass
class LengthOptions:
    """Options of :class:`BoneLengthEstimator` (see the module docstring).

    Attributes:
        warmup_frames: frames with a person before the lengths are held (30 = 1 s at 30 fps).
        min_confidence: a bone counts in a frame only when both its joints have this detector confidence.
        outlier_mads: per-bone outlier cut in median absolute deviations.
        symmetric: average left and right bones.
        refine_every_frames: how often the held lengths are compared with the recent estimate.
        refine_window: recent frames the refinement looks at.
        refine_threshold: relative difference of some bone that triggers a refinement.
        refine_rate: fraction of the way a refinement moves the held lengths.
        change_ratio: relative body-size change that means another person.
        change_frames: frames in a row the change must last.
        target_height: metres the rig's T-pose should be tall (None: the input's own scale).
    """

    warmup_frames: int = 30
    min_confidence: float = 0.3
    outlier_mads: float = 3.0
    symmetric: bool = True
    refine_every_frames: int = 300
    refine_window: int = 900
    refine_threshold: float = 0.03
    refine_rate: float = 0.5
    change_ratio: float = 0.2
    change_frames: int = 30
    target_height: float | None = None


def robust_lengths(samples: np.ndarray, outlier_mads: float = 3.0, symmetric: bool = True) -> np.ndarray | None:
    """Per-bone robust length of ``samples`` ``(N, 16)`` (NaN: bone not seen in that frame; column 0
    unused): the median after discarding values beyond ``outlier_mads`` MADs; with ``symmetric`` a bone
    never seen takes its other side's. None while some bone has no estimate at all."""
    samples = np.asarray(samples, dtype=np.float64)[:, _CHILDREN]
    out = np.full(NUM_JOINTS, np.nan)
    out[0] = 0.0
    seen = np.isfinite(samples).any(axis=0)
    if seen.any():  # all bones at once: NaN marks what a frame did not see, and the outliers
        cols = samples[:, seen]
        median = np.nanmedian(cols, axis=0)
        spread = np.maximum(np.nanmedian(np.abs(cols - median), axis=0), 1e-4 * median) + 1e-9
        kept = np.where(np.abs(cols - median) <= outlier_mads * spread, cols, np.nan)
        out[_CHILDREN[seen]] = np.nanmedian(kept, axis=0)  # the median itself is always kept
    if symmetric:  # the mean of both sides, or the side that was seen
        for a, b in FLIP_PAIRS:
            out[a] = out[b] = np.nanmean([out[a], out[b]]) if np.isfinite([out[a], out[b]]).any() else np.nan
    return out if np.all(np.isfinite(out)) else None


class BoneLengthEstimator:
    """One person's bone lengths over time (module docstring).

    Attributes:
        lengths: the current ``(16,)`` lengths by child joint, or None before the first usable frame.
        held: True once the warm-up is over (the lengths are then constant between refinements).
        version: counts changes of the held lengths (0: the warm-up's provisional lengths).
    """

    def __init__(self, options: LengthOptions | None = None):
        self.options = options or LengthOptions()
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next frames start a new warm-up."""
        self._samples: deque[np.ndarray] = deque(maxlen=max(self.options.refine_window, self.options.warmup_frames))
        self.lengths: np.ndarray | None = None
        self._raw: np.ndarray | None = None  # the lengths before scaling to the target height
        self.held = False
        self.version = 0
        self._frames = 0
        self._since_refine = 0
        self._changed_for = 0

    def update(self, joints: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray | None:
        """Add one frame's joints ``(16, 3)`` (and confidences ``(16,)``); returns the lengths to use."""
        sample = self._sample(joints, confidence)
        if sample is None:
            return self.lengths
        self._samples.append(sample)
        self._frames += 1
        if not self.held:
            provisional = self._estimate(list(self._samples))
            if provisional is not None:
                self._set(provisional)
                if self._frames >= self.options.warmup_frames:
                    self.held, self.version = True, 1
            return self.lengths
        if self._another_person(sample):
            self.reset()
            return self.update(joints, confidence)
        self._since_refine += 1
        if self._since_refine >= self.options.refine_every_frames:
            self._refine()
        return self.lengths

    def _sample(self, joints: np.ndarray, confidence: np.ndarray | None) -> np.ndarray | None:
        joints = np.asarray(joints, dtype=np.float64)
        if joints.shape != (NUM_JOINTS, 3) or not np.all(np.isfinite(joints)):
            return None
        sample = np.full(NUM_JOINTS, np.nan)
        sample[_CHILDREN] = np.linalg.norm(joints[_CHILDREN] - joints[_PARENT_OF], axis=-1)
        if confidence is not None:
            conf = np.asarray(confidence, dtype=np.float64)
            seen = np.minimum(conf[_CHILDREN], conf[_PARENT_OF]) >= self.options.min_confidence
            sample[_CHILDREN[~seen]] = np.nan
        sample[sample <= 1e-6] = np.nan
        return sample if np.any(np.isfinite(sample)) else None

    def _estimate(self, samples: list[np.ndarray]) -> np.ndarray | None:
        return robust_lengths(np.stack(samples), self.options.outlier_mads, self.options.symmetric)

    def _set(self, raw: np.ndarray) -> None:
        self._raw = raw
        target = self.options.target_height
        self.lengths = raw * (target / standing_height(raw)) if target else raw.copy()

    def _another_person(self, sample: np.ndarray) -> bool:
        seen = np.isfinite(sample)
        ratio = float(sample[seen].sum() / max(self._raw[seen].sum(), 1e-9))  # in the input's own scale
        self._changed_for = self._changed_for + 1 if abs(ratio - 1.0) > self.options.change_ratio else 0
        return self._changed_for >= self.options.change_frames

    def _refine(self) -> None:
        self._since_refine = 0
        recent = self._estimate(list(self._samples))
        if recent is None:
            return
        relative = np.abs(recent[1:] - self._raw[1:]) / np.maximum(self._raw[1:], 1e-9)
        if relative.max() > self.options.refine_threshold:
            self._set(self._raw + self.options.refine_rate * (recent - self._raw))
            self.version += 1
