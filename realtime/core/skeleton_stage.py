"""The ``solve`` stage: each person's constant-bone humanoid with joint rotations, for rotation consumers.

VMC, Live Link, ROS 2 and any avatar or game engine drive rigs with rotations on bones of constant
length. This stage runs ``semgcn.solver`` on every person of a frame and sets ``person.skeleton``
(``semgcn.solver.pose.SkeletonPose``); the app adds it whenever such a consumer is asked for.

Per person id (as ``SmoothingStage``): the bone-length estimate (robust over the first frames, then
held: ``semgcn.solver.lengths``) and the solver's continuity. A person not seen for ``lost_reset_s``
starts again. When calibration finds the floor the frame changes from camera to world: only the
``Hips`` rotation and the root change (once); bone lengths and continuity carry on.

Inputs: with a world frame (``joints_world``) the skeleton is solved in the calibration's world
frame made y-up (``frame = "world"``), otherwise in the camera frame turned y-up (``frame =
"camera"``), the pelvis at ``root_translation`` when calibration measured it. BlazePose's landmarks
(in process; on the stream when an earlier stage put them there) give the head, hand and foot
orientations; without them those bones keep swing-only rotations.

With ``publish`` the result also travels on the stream as per-person arrays (docs/stream_format.md):
``skeleton_local_rotations`` (19, 4), ``skeleton_positions`` (19, 3), ``skeleton_rest_offsets`` (19, 3),
plus the person's ``landmarks`` (33, 5) and ``world_landmarks`` (33, 3), and a ``skeleton`` header
entry (the first person's), so that a bridge or a recording downstream gets the same rotations. A
``semgcn.pose/2`` frame also gets ``skeletons``, one entry per person with its ``id``: whether *that*
person's bone lengths are held, its frame and version, never another person's.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from semgcn.solver.axes import CAMERA_TO_SOLVER, world_to_solver
from semgcn.solver.lengths import BoneLengthEstimator, LengthOptions
from semgcn.solver.parts import PartOptions, part_orientations
from semgcn.solver.pose import SkeletonPose
from semgcn.solver.rig import NUM_BONES, RIG_NAME
from semgcn.solver.solve import SkeletonSolver

log = logging.getLogger(__name__)

#: Stream array names and shapes of the published skeleton (per person), checked by the stream's decoder too.
SKELETON_SHAPES: dict[str, tuple[int, ...]] = {"skeleton_local_rotations": (NUM_BONES, 4),
                                               "skeleton_positions": (NUM_BONES, 3),
                                               "skeleton_rest_offsets": (NUM_BONES, 3)}
ARRAYS = tuple(SKELETON_SHAPES)
LANDMARK_SHAPES: dict[str, tuple[int, ...]] = {"landmarks": (33, 5), "world_landmarks": (33, 3)}


@dataclass
class SkeletonOptions:
    """Options of ``SkeletonStage``.

    Attributes:
        lengths: bone-length estimation (warm-up, refinement, target bone sum for ``--height``).
        parts: visibility ramp of the landmark-based head / hand / foot orientations.
        use_landmarks: use BlazePose's landmarks for twist (off: swing-only everywhere).
        lost_reset_s: a person unseen this long starts again (bone lengths and continuity).
        publish: put the skeleton and the landmarks on the stream (module docstring).
    """

    lengths: LengthOptions = field(default_factory=LengthOptions)
    parts: PartOptions = field(default_factory=PartOptions)
    use_landmarks: bool = True
    lost_reset_s: float = 2.0
    publish: bool = True


@dataclass
class _Track:
    lengths: BoneLengthEstimator
    solver: SkeletonSolver = field(default_factory=SkeletonSolver)
    last_seen: float = 0.0


def landmark_arrays(person: PersonPose) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A person's ``(33, 5)`` image landmarks and ``(33, 3)`` world landmarks: the detector's in
    process, or those a stream or recording carried as extra arrays; None where absent or misshapen."""
    found = []
    for name, shape in LANDMARK_SHAPES.items():
        value = getattr(person, name)
        if value is None:
            value = person.extra_arrays.get(name)
        found.append(value if value is not None and np.shape(value) == shape else None)
    return found[0], found[1]


def landmark_points(person: PersonPose) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The landmarks the solver orients the head, hands and feet by: ``(33, 3)`` points (the world
    landmarks, else the image landmarks' x, y, z) and ``(33,)`` visibilities (the image landmarks', or
    None without them); None when the person has no landmarks."""
    image, world = landmark_arrays(person)
    if world is not None:
        return world, None if image is None else image[:, 3]
    return (image[:, :3], image[:, 3]) if image is not None else None


class SkeletonStage:
    """The pipeline stage (module docstring). ``process`` sets ``person.skeleton`` on every person it can."""

    name = "solve"

    def __init__(self, options: SkeletonOptions | None = None):
        self.options = options or SkeletonOptions()
        self._tracks: dict[int, _Track] = {}
        self._warned: set[str] = set()

    def process(self, result: FrameResult) -> None:
        t = result.timestamp
        for gone in [pid for pid, track in self._tracks.items() if t - track.last_seen > self.options.lost_reset_s]:
            del self._tracks[gone]
        for index, person in enumerate(result.people):
            if person.skeleton is not None:  # solved upstream (a bridge re-reading a stream): keep it
                continue
            skeleton = self._solve(person, result, t)
            if skeleton is None:
                continue
            person.skeleton = skeleton
            if self.options.publish:
                self._publish(person, result, first=index == 0)

    def reset(self) -> None:
        """Forget every person."""
        self._tracks.clear()

    def _solve(self, person: PersonPose, result: FrameResult, t: float) -> SkeletonPose | None:
        inputs = self._inputs(person, result)
        if inputs is None:
            return None
        joints, root, frame = inputs
        track = self._tracks.get(person.id)
        if track is None:
            track = self._tracks[person.id] = _Track(BoneLengthEstimator(self.options.lengths))
        # A change of frame (the floor found) needs nothing here: it turns only the Hips; every other local
        # rotation and the twists the solver carries over are relative to a parent, so continuity holds.
        track.last_seen = t
        lengths = track.lengths.update(joints, person.confidence)
        if lengths is None:
            return None
        parts = None
        landmarks = landmark_points(person) if self.options.use_landmarks else None
        if landmarks is not None:
            parts = part_orientations(*landmarks, joints, self.options.parts)
        solved = track.solver.solve(joints, lengths, root, parts)
        return SkeletonPose(solved.rest_offsets, solved.local_rotations, solved.root_position, solved.positions,
                            frame=frame, calibrated=track.lengths.held, lengths_version=track.lengths.version,
                            position_known=root is not None, sources=solved.sources)

    def _inputs(self, person: PersonPose, result: FrameResult) -> tuple[np.ndarray, np.ndarray | None, str] | None:
        """Joints and pelvis position in the solver frame, and the frame's name (None: nothing to solve)."""
        up = (result.world_frame or {}).get("up")
        if person.joints_world is not None and up in ("y", "z"):
            joints = np.asarray(person.joints_world, dtype=np.float64) @ world_to_solver(up).T
            root, frame = joints[0].copy(), "world"
        elif person.joints_3d is not None:
            joints = np.asarray(person.joints_3d, dtype=np.float64) @ CAMERA_TO_SOLVER.T
            root, frame = None, "camera"
            if person.root_translation is not None:
                root = np.asarray(person.root_translation, dtype=np.float64) @ CAMERA_TO_SOLVER.T
        else:
            return None
        if not np.all(np.isfinite(joints)) or (root is not None and not np.all(np.isfinite(root))):
            self._warn_once("non-finite joints: no skeleton for that frame")
            return None
        return joints, root, frame

    def _publish(self, person: PersonPose, result: FrameResult, first: bool) -> None:
        sk = person.skeleton
        person.extra_arrays.update(skeleton_local_rotations=sk.local_rotations.astype(np.float32),
                                   skeleton_positions=sk.positions.astype(np.float32),
                                   skeleton_rest_offsets=sk.rest_offsets.astype(np.float32))
        for name, value in zip(LANDMARK_SHAPES, landmark_arrays(person)):
            if value is not None:
                person.extra_arrays.setdefault(name, np.asarray(value, dtype=np.float32))
        info = {"rig": RIG_NAME, "frame": sk.frame, "calibrated": sk.calibrated,
                "lengths_version": sk.lengths_version, "position_known": sk.position_known}
        if first:  # "skeleton": the first person, as version 1 readers know it
            result.header["skeleton"] = info
        if result.several_people:  # each person's own entry, so that nobody is described by another's
            others = [e for e in result.header.get("skeletons", []) if isinstance(e, dict) and e.get("id") != person.id]
            result.header["skeletons"] = others + [{"id": int(person.id), **info}]

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("solve: %s", message)


class SkeletonSource:
    """Each frame's people with their skeletons, wherever the frame came from: the one the frame
    carries (``skeleton_from_arrays``), else one solved here by a ``SkeletonStage`` of its own (made on
    the first frame that needs it), which keeps each person's bone lengths and continuity by id.
    For the bridges fed by a stream or a recording, and the ROS 2 bag export."""

    def __init__(self, options: SkeletonOptions | None = None):
        self.options = options or SkeletonOptions(publish=False)
        self._stage: SkeletonStage | None = None

    def people(self, frame: FrameResult) -> list[tuple[PersonPose, SkeletonPose]]:
        """``(person, skeleton)`` for every person of ``frame`` that has or can be given a skeleton."""
        unsolved = False
        for person in frame.people:
            if person.skeleton is None:
                person.skeleton = skeleton_from_arrays(person, frame.header)
            unsolved |= person.skeleton is None
        if unsolved:
            if self._stage is None:
                self._stage = SkeletonStage(self.options)
            self._stage.process(frame)
        return [(person, person.skeleton) for person in frame.people if person.skeleton is not None]


def skeleton_from_arrays(person: PersonPose, header: dict | None) -> SkeletonPose | None:
    """The skeleton a stream or recording carried (``publish``), rebuilt from its arrays; None without them."""
    arrays = [person.extra_arrays.get(name) for name in ARRAYS]
    if any(a is None for a in arrays) or [a.shape for a in arrays] != list(SKELETON_SHAPES.values()):
        return None
    rotations, positions, rest = (np.asarray(a, dtype=np.float64) for a in arrays)
    try:
        facts = _facts(skeleton_info(person.id, header))
    except (TypeError, ValueError, OverflowError):  # a header field of the wrong type: the arrays still hold
        facts = _facts({})
    return SkeletonPose(rest, rotations, positions[0] - rest[0], positions, **facts)


def _facts(info: dict) -> dict:
    return dict(frame=str(info.get("frame", "camera")), calibrated=bool(info.get("calibrated", True)),
                lengths_version=int(info.get("lengths_version", 0)),
                position_known=bool(info.get("position_known", False)))


def skeleton_info(person_id: int, header: dict | None) -> dict:
    """What the header says about person ``person_id``'s skeleton: their own ``skeletons`` entry
    (version 2), else the ``skeleton`` entry when the header has no per-person entries (version 1);
    never another person's entry."""
    header = header or {}
    entries = header.get("skeletons")
    if isinstance(entries, list):
        return next((e for e in entries if isinstance(e, dict) and e.get("id") == person_id), {})
    info = header.get("skeleton")
    return info if isinstance(info, dict) else {}
