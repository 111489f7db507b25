"""Measuring the live 3D against ground truth, for sources that have it (the demo).

The pipeline knows nothing of ground truth. A source that has it implements ``GroundTruthSource``
(``ground_truth(frame_index)``), and it plugs in the ``Evaluator`` that ``Evaluator.for_source`` makes
for it, in two places: as a stage (``process``) it attaches the truth to each person as the stream
arrays ``gt_joints_3d``, ``gt_keypoints_2d`` and ``gt_root_translation``, so that a subscriber can
measure its own processing against it; as a consumer (``consume``) it compares each published frame's
people with the truth and keeps the errors, after the frame has gone out (no cost to the latency).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.core.stats import Series
from semgcn.metrics import pose_errors_mm


@dataclass
class GroundTruth:
    """The true pose of one person in one frame.

    Attributes:
        keypoints_2d: ``(16, 2)`` pixels, the projection of the true joints.
        joints_3d: ``(16, 3)`` metres, camera frame, pelvis at the origin.
        root_translation: ``(3,)`` metres, the true pelvis in the camera frame.
    """

    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    root_translation: np.ndarray


@runtime_checkable
class GroundTruthSource(Protocol):
    """A capture source that knows the true poses of the frames it made."""

    def ground_truth(self, frame_index: int) -> list[GroundTruth] | None:
        """The true people of frame ``frame_index`` (None: not known, e.g. too old)."""


class Evaluator:
    """Measures each frame's 3D against the ground truth: a pipeline stage and a consumer (module docstring).

    Args:
        truth_of: ``frame_index -> list[GroundTruth] | None``.
        publish_truth: also attach the truth to each person as ``gt_*`` stream arrays.
    Attributes:
        accuracy: per metric (``mpjpe_mm``, ``mpjpe_scaled_mm``, ``pmpjpe_mm``, ``root_position_mm``)
            the series of per-frame errors in millimetres.
    """

    name = "evaluate"

    def __init__(self, truth_of: Callable[[int], list[GroundTruth] | None], publish_truth: bool = True):
        self.truth_of = truth_of
        self.publish_truth = publish_truth
        self.accuracy: dict[str, Series] = {}

    @classmethod
    def for_source(cls, source, publish_truth: bool = True) -> "Evaluator | None":
        """An evaluator for ``source`` when it has ground truth, else None."""
        if isinstance(source, GroundTruthSource):
            return cls(source.ground_truth, publish_truth)
        return None

    def process(self, result: FrameResult) -> None:
        """Stage: attach the truth to each person (with ``publish_truth``)."""
        if self.publish_truth:
            for person, truth in self._pairs(result):
                person.extra_arrays.update(gt_joints_3d=truth.joints_3d, gt_keypoints_2d=truth.keypoints_2d,
                                           gt_root_translation=truth.root_translation)

    def consume(self, result: FrameResult) -> None:
        """Consumer: measure each person's error against the truth."""
        for person, truth in self._pairs(result):
            self._measure(person, truth)

    def close(self) -> None:
        """Nothing to release (a consumer's contract)."""

    def _pairs(self, result: FrameResult) -> list[tuple[PersonPose, GroundTruth]]:
        # One person and one truth today; several people are paired in order (the demo gives its
        # figures in a fixed order) until the multi-person tracker brings matching.
        return list(zip(result.people, self.truth_of(result.frame_index) or ()))

    def _measure(self, person: PersonPose, truth: GroundTruth) -> None:
        if person.joints_3d is None:
            return
        self._add(pose_errors_mm(person.joints_3d[None], np.asarray(truth.joints_3d)[None]))
        if person.root_translation is not None:
            # Absolute position of the pelvis (calibration stage), camera frame.
            error = float(np.linalg.norm(person.root_translation - truth.root_translation) * 1e3)
            self._add({"root_position_mm": error})

    def _add(self, errors_mm: dict[str, float]) -> None:
        for name, value in errors_mm.items():
            if name.endswith("_mm"):
                self.accuracy.setdefault(name, Series()).add(value)

    def reset(self) -> None:
        """Forget the errors measured so far (after a warm-up, say)."""
        self.accuracy = {}

    def summary(self) -> dict[str, dict]:
        """Per metric: count, mean, median (p50), p99 and max error in mm."""
        return {name: series.summary().as_dict() for name, series in self.accuracy.items()}
