"""Several demo figures in one room: each goes through its own program of actions while walking a path
that crosses the others' (in front of and behind each other), in its own clothes and size.

``CrowdMember`` describes one figure; ``crowd(n, seed)`` gives the ``n`` figures of ``--demo-people n``.
Their paths loop every ``PATH_SECONDS``: the first two walk across the room in opposite directions at
different depths (crossing twice a loop, one hiding the other for about a second), the third walks
towards the camera and back through both paths.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from realtime.demo.figure import Figure, Primitives
from realtime.demo.kinematics import BodyShape
from realtime.demo.motion import MotionGenerator, MotionState

PATH_SECONDS = 12.0
#: Root (x, z) key frames of each figure's path over one loop (metres; z towards the camera): the
#: first two cross the room in opposite directions (passing each other at t = 3 s and 9 s), the third
#: waits at the back, walks to the front and back again, passing both at their own depths.
PATHS: tuple[tuple[tuple[float, tuple[float, float]], ...], ...] = (
    ((0, (-1.2, 0.1)), (6, (1.2, 0.1)), (12, (-1.2, 0.1))),
    ((0, (1.2, -0.9)), (6, (-1.2, -0.9)), (12, (1.2, -0.9))),
    ((0, (-0.45, -1.7)), (2, (-0.45, -1.7)), (5, (-0.35, 0.5)), (8, (-0.45, -1.7)), (12, (-0.45, -1.7))),
)
#: Body sizes (a factor on every segment of the 1.75 m figure).
SIZES = (1.0, 0.93, 1.05)


@dataclass
class CrowdMember:
    """One figure of the crowd: its motion, its clothes and its path."""

    motion: MotionGenerator
    figure: Figure
    path: tuple[tuple[float, tuple[float, float]], ...]

    def state_at(self, t: float) -> MotionState:
        """The figure posed at time ``t`` and moved along its path."""
        state = self.motion.state_at(t)
        x, z = _along(self.path, t % PATH_SECONDS)
        state.skeleton.translate(np.array([x, 0.0, z]))
        return state

    def place(self, state: MotionState) -> Primitives:
        return self.figure.place(state.skeleton)


def crowd(n: int, seed: int = 0) -> list[CrowdMember]:
    """The ``n`` (1 to 3) figures of the demo, their motions starting at different points of the program."""
    if not 1 <= n <= len(PATHS):
        raise ValueError(f"the demo has 1 to {len(PATHS)} figures, got {n}")
    members = []
    for i in range(n):
        shape = scaled(BodyShape(), SIZES[i])
        members.append(CrowdMember(MotionGenerator(shape, seed=seed + 17 * i), Figure(palette_index=seed + i), PATHS[i]))
    return members


def scaled(shape: BodyShape, factor: float) -> BodyShape:
    """``shape`` with every length multiplied by ``factor``."""
    return replace(shape, **{f.name: getattr(shape, f.name) * factor for f in fields(shape)})


def merge(parts: list[Primitives]) -> Primitives:
    """One set of primitives from several figures (the renderer's z-buffer sorts out who hides whom)."""
    return Primitives(*(np.concatenate([getattr(p, name) for p in parts])
                        for name in ("centres", "axes", "radii", "colours", "casts_shadow")))


def _along(keys, t: float) -> np.ndarray:
    times = [k[0] for k in keys]
    i = min(int(np.searchsorted(times, t, side="right")) - 1, len(keys) - 2)
    a = (t - times[i]) / (times[i + 1] - times[i])
    a = a * a * (3.0 - 2.0 * a)  # ease in and out at the turns
    return (1 - a) * np.asarray(keys[i][1], float) + a * np.asarray(keys[i + 1][1], float)
