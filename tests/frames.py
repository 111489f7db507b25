"""Frame records for tests: one person (or nobody) with the given arrays."""
from __future__ import annotations

import numpy as np

from realtime.core.records import FrameResult, PersonPose


def frame_with(frame_index: int, t_capture: float, keypoints_2d=None, confidence=None, joints_3d=None,
               image_size=(640, 480), source: str = "test", **fields) -> FrameResult:
    """A ``FrameResult`` holding one person with these arrays (nobody when ``joints_3d`` is None);
    ``fields`` set any other field (``seq``, ``t_publish``, ``timings_ms``...)."""
    people = []
    if joints_3d is not None:
        people.append(PersonPose(keypoints_2d=_f32(keypoints_2d), confidence=_f32(confidence),
                                 joints_3d=_f32(joints_3d)))
    return FrameResult(frame_index=frame_index, t_capture=t_capture, image_size=tuple(image_size), source=source,
                       people=people, **fields)


def _f32(array):
    return None if array is None else np.asarray(array, dtype=np.float32)
