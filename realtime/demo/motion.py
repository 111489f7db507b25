"""Procedural motion of the demo figure: a smooth, looping program of everyday movements.

A loop of ``LOOP_SECONDS`` cycles through marching in place, waving, squatting, arm raises, a full turn
while marching and a look-around, cross-fading the joint angles of one action into the next. The
heading follows its own key frames so that the camera sees the figure from the front, three-quarter,
side and (briefly) the back. Joint angles go through ``forward_kinematics``; the figure is then put on
the floor: the lowest point of its soles touches ``y = 0`` and the foot that carries the weight stays
where it stands, so feet do not skate while the body squats or marches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from realtime.demo.kinematics import BodyShape, Skeleton, forward_kinematics, lowest_sole_height

Pose = dict[str, float]

#: Neutral standing pose, the base every action adds to.
NEUTRAL: Pose = {"l_shoulder_abd": 0.12, "r_shoulder_abd": 0.12, "l_elbow": 0.18, "r_elbow": 0.18,
                 "l_knee": 0.04, "r_knee": 0.04, "l_hip_flex": 0.02, "r_hip_flex": 0.02}


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def _rise(tau: float, period: float) -> float:
    """0 -> 1 -> 0 once per ``period``, smooth at both ends."""
    return 0.5 * (1.0 - np.cos(2.0 * np.pi * tau / period))


def _pose(**angles: float) -> Pose:
    pose = dict(NEUTRAL)
    pose.update(angles)
    return pose


def march(tau: float) -> Pose:
    """Marching in place: knees up in turn, arms swinging against the legs."""
    w = 2.0 * np.pi / 1.15
    pose = _pose()
    for side, phase in (("l", 0.0), ("r", np.pi)):
        lift = max(0.0, np.sin(w * tau + phase)) ** 1.3
        pose[f"{side}_hip_flex"] = 0.75 * lift
        pose[f"{side}_knee"] = 0.04 + 1.25 * lift
        pose[f"{side}_ankle"] = -0.3 * lift
        swing = np.sin(w * tau + phase + np.pi)
        pose[f"{side}_shoulder_flex"] = 0.45 * swing
        pose[f"{side}_elbow"] = 0.45 + 0.25 * max(0.0, swing)
    pose["pelvis_roll"] = 0.05 * np.sin(w * tau)
    pose["spine_twist"] = 0.12 * np.sin(w * tau)
    return pose


def wave(tau: float) -> Pose:
    """Right hand raised beside the head, forearm waving side to side."""
    up = _smoothstep(tau / 0.8)
    pose = _pose(r_shoulder_abd=0.12 + 1.55 * up, r_shoulder_rot=1.45 * up,
                 r_elbow=0.18 + (1.35 + 0.4 * np.sin(2.0 * np.pi * 1.8 * tau)) * up,
                 head_yaw=-0.15 * up, head_roll=0.08 * up, spine_lateral=0.06 * up)
    return pose


def squat(tau: float) -> Pose:
    """Two squats with the arms reaching forward for balance; the feet stay flat."""
    d = _rise(tau, 3.0)
    hip, knee, tilt = 1.35 * d, 1.85 * d, 0.2 * d
    # Flat foot: the foot's total pitch (tilt - hip + knee - ankle) must stay zero.
    return _pose(pelvis_tilt=tilt, spine_flex=0.25 * d, head_pitch=-0.3 * d,
                 l_hip_flex=hip, r_hip_flex=hip, l_knee=knee, r_knee=knee,
                 l_ankle=tilt - hip + knee, r_ankle=tilt - hip + knee,
                 l_hip_abd=0.12 * d, r_hip_abd=0.12 * d,
                 l_shoulder_flex=1.45 * d, r_shoulder_flex=1.45 * d,
                 l_elbow=0.18 * (1 - d), r_elbow=0.18 * (1 - d))


def arm_raises(tau: float) -> Pose:
    """Both arms out to the side and over the head, then forward and up."""
    if tau < 3.0:
        d = _rise(tau, 3.0)
        return _pose(l_shoulder_abd=0.12 + 2.55 * d, r_shoulder_abd=0.12 + 2.55 * d,
                     l_elbow=0.18 - 0.1 * d, r_elbow=0.18 - 0.1 * d, head_pitch=-0.15 * d)
    d = _rise(tau - 3.0, 3.0)
    return _pose(l_shoulder_flex=2.5 * d, r_shoulder_flex=2.5 * d, spine_flex=-0.08 * d)


def look_around(tau: float) -> Pose:
    """Weight shift, a side stretch and a look left and right."""
    s = np.sin(2.0 * np.pi * tau / 4.0)
    return _pose(head_yaw=0.6 * s, spine_lateral=0.22 * s, pelvis_roll=-0.05 * s,
                 l_hip_abd=0.05 + 0.05 * s, r_hip_abd=0.05 - 0.05 * s,
                 l_shoulder_abd=0.12 + 0.35 * max(0.0, -s), r_shoulder_abd=0.12 + 0.35 * max(0.0, s))


@dataclass(frozen=True)
class Segment:
    name: str
    duration: float
    action: Callable[[float], Pose]


PROGRAM: tuple[Segment, ...] = (
    Segment("march", 7.0, march),
    Segment("wave", 5.0, wave),
    Segment("squat", 6.0, squat),
    Segment("arm_raises", 6.0, arm_raises),
    Segment("turn", 8.0, march),
    Segment("look_around", 4.0, look_around),
)
LOOP_SECONDS = sum(s.duration for s in PROGRAM)
_STARTS = np.cumsum([0.0] + [s.duration for s in PROGRAM[:-1]])
#: Heading key frames (seconds, degrees): mostly front and three-quarter views, one side view and one
#: full turn whose back view lasts about two seconds of the loop.
HEADING_KEYS = ((0, 0), (3, 25), (6, -30), (9, 0), (12, 20), (15, 60), (18, 90), (21, 45), (24, 0),
                (25.5, 0), (27, 90), (29.5, 180), (31.5, 260), (34, 340), (36, 360))
#: Root (x, z) key frames in metres; the figure drifts only while marching.
ROOT_KEYS = ((0, (0.0, 0.0)), (7, (0.3, 0.15)), (24, (0.3, 0.15)), (32, (-0.25, -0.1)), (36, (0.0, 0.0)))
CROSSFADE_SECONDS = 1.0


def _keyframed(keys, t: float) -> np.ndarray:
    times = [k[0] for k in keys]
    i = int(np.searchsorted(times, t, side="right")) - 1
    i = min(max(i, 0), len(keys) - 2)
    a = _smoothstep((t - times[i]) / (times[i + 1] - times[i]))
    return (1 - a) * np.asarray(keys[i][1], float) + a * np.asarray(keys[i + 1][1], float)


def _blend(a: Pose, b: Pose, alpha: float) -> Pose:
    return {k: (1 - alpha) * a.get(k, 0.0) + alpha * b.get(k, 0.0) for k in set(a) | set(b)}


@dataclass(frozen=True)
class MotionState:
    """The figure at one instant: its world skeleton and what it is doing."""

    skeleton: Skeleton
    action: str
    heading_deg: float


class MotionGenerator:
    """Deterministic motion: ``state_at(t)`` depends only on ``t``, the seed and the body shape.

    Args:
        shape: segment lengths of the figure.
        seed: shifts the loop's start time (seeds start at different points of the program).
    """

    def __init__(self, shape: BodyShape | None = None, seed: int = 0) -> None:
        self.shape = shape or BodyShape()
        self.time_offset = float((seed * 7.3) % LOOP_SECONDS)

    def angles_at(self, t: float) -> tuple[Pose, str]:
        """Joint angles at time ``t`` and the name of the current action."""
        lt = (t + self.time_offset) % LOOP_SECONDS
        i = int(np.searchsorted(_STARTS, lt, side="right")) - 1
        seg = PROGRAM[i]
        pose = seg.action(lt - _STARTS[i])
        half = CROSSFADE_SECONDS / 2.0
        end = _STARTS[i] + seg.duration
        if lt > end - half:  # fade into the next action (wrapping round the loop)
            j = (i + 1) % len(PROGRAM)
            nxt = PROGRAM[j].action(lt - end)
            pose = _blend(pose, nxt, 0.5 * _smoothstep((lt - end + half) / half))
        elif lt < _STARTS[i] + half:  # finish the fade from the previous action
            j = (i - 1) % len(PROGRAM)
            prev = PROGRAM[j].action(lt - _STARTS[i] + PROGRAM[j].duration)
            pose = _blend(prev, pose, 0.5 + 0.5 * _smoothstep((lt - _STARTS[i]) / half))
        breath = np.sin(2.0 * np.pi * lt / 3.7)
        pose["spine_flex"] = pose.get("spine_flex", 0.0) + 0.02 * breath
        pose["head_pitch"] = pose.get("head_pitch", 0.0) + 0.03 * np.sin(2.0 * np.pi * lt / 5.3)
        return pose, seg.name

    def state_at(self, t: float) -> MotionState:
        """The grounded, posed figure at time ``t`` (world frame, metres, y up)."""
        lt = (t + self.time_offset) % LOOP_SECONDS
        pose, action = self.angles_at(t)
        heading = float(_keyframed(HEADING_KEYS, lt))
        root_x, root_z = _keyframed(ROOT_KEYS, lt)
        sk = forward_kinematics(pose, self.shape, np.radians(heading), np.zeros(3))
        # Ground the soles, and keep the weight-bearing (lower) foot under the root position.
        heights = np.array([sk.frames[f"{s}_foot"][0][1] for s in ("l", "r")])
        weights = np.exp(-(heights - heights.min()) / 0.015)
        weights /= weights.sum()
        # Each ankle minus its hip's sideways offset, so that standing on one foot does not sway the body.
        pelvis = sk.frames["pelvis"][0]
        anchor = sum(w * (sk.frames[f"{s}_foot"][0] - sk.frames[f"{s}_thigh"][0] + pelvis)
                     for w, s in zip(weights, ("l", "r")))
        offset = np.array([root_x - anchor[0], -lowest_sole_height(sk), root_z - anchor[2]])
        sk.translate(offset)
        return MotionState(skeleton=sk, action=action, heading_deg=heading % 360.0)
