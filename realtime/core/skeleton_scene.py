"""The skeleton as robot software and 3D viewers see it: reference frames, joints, bones, transforms.

Protocol-free on purpose: the ROS 2 topics (``realtime.bridges.ros2``), the ROS 2 bag
(``realtime.recording.ros2bag``) and the Foxglove channels (``realtime.recording.foxglove_scene``)
all turn the same ``SkeletonScene`` into their own messages, so they can never disagree about where
a joint is or when a person left.

Reference frames (names after REP-103 / REP-105):

* ``camera_optical``: the stream's camera frame, x right, y down, z forward (REP-103's ``_optical``
  convention, which is OpenCV's). Joints are ``joints_3d + root_translation``: absolute when the
  calibration stage fitted the pelvis position, pelvis at the origin otherwise.
* ``camera``: the same camera as a REP-103 body frame, x forward, y left, z up. It is the parent of
  ``camera_optical`` through a fixed rotation, so a viewer whose fixed frame is ``camera`` shows the
  person upright without any calibration.
* ``world`` (``--up z``, REP-103's z up) or ``world_y_up`` (``--up y``): the calibrated floor frame of
  ``joints_world``; the up axis is in the name because REP-103 says world frames are z up. Its
  transform to ``camera`` comes from the stream's ``world_frame`` header once a world frame is known.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.spatial.transform import Rotation

from realtime.core import palette
from realtime.core.palette import RGB
from realtime.core.records import FrameResult, PersonPose
from semgcn.skeleton import BONES, NUM_JOINTS
from semgcn.solver.axes import CAMERA_TO_SOLVER, world_to_solver
from semgcn.solver.rig import JOINT_BONE

log = logging.getLogger(__name__)

OPTICAL_FRAME = "camera_optical"
CAMERA_FRAME = "camera"
#: ``--ros2-frame`` choices: "auto" = the world frame for people that have world joints, else camera.
FRAME_CHOICES = ("auto", "camera", "world")
#: ``camera_optical`` axes seen from ``camera``: x_opt = -y_cam, y_opt = -z_cam, z_opt = x_cam.
OPTICAL_IN_CAMERA = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
IDENTITY_QUATERNION = (0.0, 0.0, 0.0, 1.0)  # x, y, z, w (ROS and Foxglove order)
JOINT_COLOUR = (0.95, 0.95, 0.95)
#: Bones as (parent, child) joint indices, the order of every bone list of every protocol.
BONE_PAIRS: tuple[tuple[int, int], ...] = tuple((parent, child) for child, parent in BONES)
#: The bones of one person (``semgcn.pose/1``), the Open3D viewer's palette: left blue, right orange,
#: centre green. With several people each person has their own (``PersonInScene.bone_colours``).
BONE_COLOURS: tuple[RGB, ...] = tuple(palette.SIDE_COLOURS.bone_rgb())
JOINT_DIAMETER_M = 0.06
BONE_WIDTH_M = 0.025
#: How long a drawn skeleton lives without a refresh: a stalled stream never leaves one frozen.
LIFETIME_S = 1.0


def world_frame_id(up: str) -> str:
    """The frame name of a calibrated world frame with ``up`` ("y" or "z") as its up axis."""
    return "world" if up == "z" else "world_y_up"


@dataclass
class Transform:
    """Where ``child`` sits in ``parent``: ``p_parent = R(rotation) @ p_child + translation``."""

    parent: str
    child: str
    translation: np.ndarray  # (3,) metres
    rotation: np.ndarray     # (4,) unit quaternion x, y, z, w


@dataclass
class PersonInScene:
    """One person's joints in the scene's frame: ``positions (16, 3)`` metres and ``orientations
    (16, 4)`` unit quaternions (x, y, z, w), in skeleton order; ``name`` is the stable marker
    namespace / entity id (``person_<id>``); ``bone_colours`` one RGB per bone of ``BONE_PAIRS``: by side
    for one person, the person's own hue (``realtime.core.palette``) with several, as the viewer and the
    overlay draw them."""

    id: int
    name: str
    positions: np.ndarray
    orientations: np.ndarray
    bone_colours: tuple[RGB, ...] = BONE_COLOURS


@dataclass
class SkeletonScene:
    """One frame for robots and 3D viewers.

    Attributes:
        stamp_ns: the capture time, UNIX nanoseconds (every message of the frame carries it).
        frame_id: the frame the people's joints are given in.
        people: the people to draw (empty: nobody in view).
        departed_ids: the ids of people drawn before who are not in this frame: their drawings must be
            deleted. Repeated for ``SceneBuilder.repeat_deletions`` frames, so that one lost message
            cannot leave a skeleton standing. Each person has their own name (``departed``), so one
            person leaving deletes only their own drawings while the others stay.
        transforms: ``camera -> camera_optical`` always, ``world -> camera`` once calibrated.
    """

    stamp_ns: int
    frame_id: str
    people: list[PersonInScene] = field(default_factory=list)
    departed_ids: list[int] = field(default_factory=list)
    transforms: list[Transform] = field(default_factory=list)

    @property
    def departed(self) -> list[str]:
        """The names (``person_<id>``) of ``departed_ids``, in the same order."""
        return [person_name(person_id) for person_id in self.departed_ids]


def person_name(person_id: int) -> str:
    """A person's marker namespace and scene entity id: ``person_<id>``, stable while they are tracked."""
    return f"person_{int(person_id)}"


def stamp_ns(t_seconds: float) -> int:
    """UNIX seconds -> integer nanoseconds (the ``sec`` / ``nanosec`` of a stamp: ``divmod(ns, 10**9)``)."""
    return int(round(float(t_seconds) * 1e9))


def joint_orientations(person: PersonPose, axes: np.ndarray | None) -> np.ndarray:
    """Each joint's orientation, ``(16, 4)`` quaternions x, y, z, w, in the scene's frame.

    A joint's orientation is the rotation, away from the T-pose rest of ``semgcn.solver`` (docs/
    skeleton_solver.md), of the skeleton solver's bone that sits on the joint (``person.skeleton``,
    set by the ``solve`` stage), expressed in the scene's axes: identity at rest. ``axes`` is ``A`` with
    ``p_scene = A p_solver`` (``scene_from_solver``); a rotation ``R`` of the solver frame is ``A R A^T``
    in the scene, as a quaternion ``(A v, w)`` (``A`` is a proper rotation). Without a skeleton (the stage
    did not run) or without ``axes`` every joint gets the identity.
    """
    skeleton = person.skeleton
    if skeleton is None or axes is None:
        return _IDENTITY_ORIENTATIONS
    solver_q = _global_quaternions(np.asarray(skeleton.local_rotations, np.float64), skeleton.parents)[list(JOINT_BONE)]
    out = np.empty_like(solver_q)
    out[:, :3] = solver_q[:, :3] @ axes.T
    out[:, 3] = solver_q[:, 3]
    return out


_IDENTITY_ORIENTATIONS = np.tile(IDENTITY_QUATERNION, (NUM_JOINTS, 1))
_IDENTITY_ORIENTATIONS.flags.writeable = False  # shared by every frame


def _global_quaternions(local: np.ndarray, parents: tuple[int, ...]) -> np.ndarray:
    """Each bone's rotation from the T-pose (parent's global times own local), as x, y, z, w quaternions."""
    out = np.empty_like(local)
    for i, parent in enumerate(parents):
        out[i] = local[i] if parent < 0 else _multiply(out[parent], local[i])
    return out


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The Hamilton product ``a b`` of two x, y, z, w quaternions (the rotation b, then a)."""
    (ax, ay, az, aw), (bx, by, bz, bw) = a, b
    return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])


def scene_from_solver(skeleton_frame: str, in_world: bool, up: str, world_from_optical: np.ndarray | None):
    """The axes change ``A`` from the solver frame of a skeleton (``SkeletonPose.frame``: "camera" or
    "world") to the scene's frame (``camera_optical``, or the calibrated world), or None when the
    world it needs is unknown."""
    optical_from_solver = CAMERA_TO_SOLVER.T
    world_from_solver = world_to_solver(up).T
    if skeleton_frame == "world":
        if in_world:
            return world_from_solver
        return None if world_from_optical is None else world_from_optical.T @ world_from_solver
    if in_world:
        return None if world_from_optical is None else world_from_optical @ optical_from_solver
    return optical_from_solver


class SceneBuilder:
    """Turns each ``FrameResult`` into a ``SkeletonScene``, remembering who was drawn for the deletions.

    Args:
        frame: "camera" (``camera_optical`` always), "world" (world joints only: people without them
            are not drawn) or "auto" (world joints when a person has them, else ``camera_optical``).
        repeat_deletions: frames during which a person who left is listed in ``departed``.
    """

    def __init__(self, frame: str = "camera", repeat_deletions: int = 30):
        if frame not in FRAME_CHOICES:
            raise ValueError(f"frame must be one of {FRAME_CHOICES}, got {frame!r}")
        self.frame = frame
        self.repeat_deletions = int(repeat_deletions)
        self._absent_for: dict[int, int] = {}  # person id -> frames since last drawn
        self._warned_no_world = False
        self._world_cache: tuple[str, Transform | None, np.ndarray | None] = ("", None, None)

    def _world(self, world_frame: dict | None) -> tuple[Transform | None, np.ndarray | None]:
        """``world -> camera`` and the world-from-optical rotation, recomputed only when the stream's
        ``world_frame`` changes (it repeats every frame, and scipy's conversions cost ~0.2 ms)."""
        key = repr(world_frame)
        if key != self._world_cache[0]:
            world = _world_transform(world_frame)
            self._world_cache = (key, world, _world_from_optical(world) if world is not None else None)
        return self._world_cache[1], self._world_cache[2]

    def build(self, result: FrameResult) -> SkeletonScene:
        world, world_from_optical = self._world(result.world_frame)
        up = str((result.world_frame or {}).get("up", "y"))
        in_world = self._in_world(result.people, world)
        scene = SkeletonScene(stamp_ns(result.t_capture), world_frame_id(up) if in_world else OPTICAL_FRAME,
                              transforms=[_camera_to_optical()] + ([world] if world is not None else []))
        for person in result.people:
            axes = (scene_from_solver(person.skeleton.frame, in_world, up, world_from_optical)
                    if person.skeleton is not None else None)
            drawn = self._world_person(person, world_from_optical, axes) if in_world else self._camera_person(person, axes)
            if drawn is not None:
                drawn.bone_colours = _bone_colours(palette.colours_for(result, person))
                scene.people.append(drawn)
        self._track(scene)
        return scene

    def _in_world(self, people: list[PersonPose], world: Transform | None) -> bool:
        """One frame for the whole frame (a PoseArray has one header): the world frame when asked for
        ("world") or, with "auto", when every person has world joints."""
        if self.frame == "world":
            if world is None and not self._warned_no_world:
                log.warning("no world frame yet (it needs calibration or foot contacts): nobody is drawn until then")
                self._warned_no_world = True
            return True
        return (self.frame == "auto" and world is not None and bool(people)
                and all(p.joints_world is not None for p in people))

    @staticmethod
    def _world_person(person: PersonPose, world_from_optical: np.ndarray | None, axes) -> PersonInScene | None:
        if world_from_optical is None or person.joints_world is None or not np.all(np.isfinite(person.joints_world)):
            return None
        return PersonInScene(person.id, person_name(person.id), np.asarray(person.joints_world, np.float64),
                             joint_orientations(person, axes))

    @staticmethod
    def _camera_person(person: PersonPose, axes) -> PersonInScene | None:
        if person.joints_3d is None or not np.all(np.isfinite(person.joints_3d)):
            return None
        positions = np.asarray(person.joints_3d, np.float64)
        if person.root_translation is not None:
            positions = positions + np.asarray(person.root_translation, np.float64)
        return PersonInScene(person.id, person_name(person.id), positions, joint_orientations(person, axes))

    def _track(self, scene: SkeletonScene) -> None:
        present = {p.id for p in scene.people}
        for person_id in present:
            self._absent_for[person_id] = 0
        for person_id in [i for i in self._absent_for if i not in present]:
            self._absent_for[person_id] += 1
            if self._absent_for[person_id] > self.repeat_deletions:
                del self._absent_for[person_id]
            else:
                scene.departed_ids.append(person_id)


_OPTICAL_IN_CAMERA_QUATERNION = Rotation.from_matrix(OPTICAL_IN_CAMERA).as_quat()  # once: scipy takes ~0.2 ms


@lru_cache(maxsize=64)
def _bone_colours(colours: palette.SkeletonColours) -> tuple[RGB, ...]:
    return tuple(colours.bone_rgb())


def _camera_to_optical() -> Transform:
    return Transform(CAMERA_FRAME, OPTICAL_FRAME, np.zeros(3), _OPTICAL_IN_CAMERA_QUATERNION)


def _world_transform(world_frame: dict | None) -> Transform | None:
    """``world -> camera`` from the stream's ``world_frame`` header (None until a world frame is known).

    The header gives ``p_world = R @ (p_optical - o)``; so ``camera_optical`` sits in the world at
    ``-R @ o`` with rotation ``R``, and ``camera`` (its parent) with rotation ``R @ OPTICAL_IN_CAMERA.T``.
    """
    try:
        rotation = np.asarray(world_frame["rotation_world_from_camera"], np.float64).reshape(3, 3)
        origin = np.asarray(world_frame["origin_in_camera_m"], np.float64).reshape(3)
        up = str(world_frame.get("up", "y"))
    except (TypeError, KeyError, ValueError):
        return None  # no world frame yet (or a status line only)
    if not (np.all(np.isfinite(rotation)) and np.all(np.isfinite(origin))):
        return None
    body = Rotation.from_matrix(rotation @ OPTICAL_IN_CAMERA.T)  # from_matrix re-orthonormalises the rounded R
    return Transform(world_frame_id(up), CAMERA_FRAME, -rotation @ origin, body.as_quat())


def _world_from_optical(world: Transform) -> np.ndarray:
    """The rotation taking ``camera_optical`` directions into the world."""
    return Rotation.from_quat(world.rotation).as_matrix() @ OPTICAL_IN_CAMERA
