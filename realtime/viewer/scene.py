"""What the viewer shows for the frames it has received: placement, floor, trail and follow point.

Coordinates. Joints arrive in the camera frame with OpenCV axes (x right, y down, z forward), pelvis at
the origin. The display frame is y up: a rotation of 180 degrees about x, ``(x, y, z) -> (x, -y, -z)``
(a proper rotation, so left stays left), which puts the real camera at the origin looking down -z,
as an OpenGL camera does. The skeleton goes to ``root_translation`` when the stream carries it (the
calibration stage), else ``default_distance`` metres in front of the camera. With ``coords="world"``
the stream's ``joints_world`` are shown (y-up as they are; a z-up world is turned to y-up) and the
camera is placed by the header's ``world_frame`` transform, or else by fitting the rigid motion
between the camera-frame and world joints of the frame.

Several people (schema ``semgcn.pose/2``) are placed alike, each with their track id and colours
(``realtime.core.palette``); the floor is under the lowest of them, the view follows the group's centre
(the mean of their pelvises), and the trail belongs to one person: ``trail_person`` or, without it, the
first person in view, kept while they stay (a new one is chosen once their path has aged out).

Pure numpy; ``SceneState`` keeps the little history the view needs (trail, smoothed floor and
look-at point) and knows nothing about windows or sockets.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from realtime.core.palette import SkeletonColours, colours_for, several_people
from realtime.core.records import FrameResult, PersonPose
from semgcn.codec import default_intrinsics
from semgcn.skeleton import JOINT_INDEX, ROOT

CAMERA_TO_DISPLAY = np.diag([1.0, -1.0, -1.0])
#: calibration's z-up world (x forward, y left, z up) -> its y-up world (x right, y up, z back).
Z_UP_TO_Y_UP = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
_FEET = (JOINT_INDEX["right_ankle"], JOINT_INDEX["left_ankle"])
_ANKLE_HEIGHT_M = 0.08  # the ankle joint sits about this far above the sole
_DEFAULT_PELVIS_HEIGHT_M = 0.95
_FLOOR_MEMORY_S = 2.0


@dataclass
class SceneOptions:
    """How frames are placed in the scene.

    Attributes:
        coords: "camera" (camera frame, y flipped up) or "world" (the stream's ``joints_world``).
        default_distance: metres in front of the camera where a skeleton without
            ``root_translation`` is drawn.
        trail_joint: name of the joint whose path is drawn (``semgcn.skeleton.JOINT_NAMES``), or None.
        trail_seconds: length of the trail in seconds of capture time.
        follow_time_constant: seconds of the low-pass filter on the look-at point and the floor
            height (larger: smoother, slower).
        trail_person: the track id whose joint is trailed; None: the first person in view.
    """

    coords: str = "camera"
    default_distance: float = 3.0
    trail_joint: str | None = None
    trail_seconds: float = 1.0
    follow_time_constant: float = 0.5
    trail_person: int | None = None


@dataclass
class ShownPerson:
    """One person as the scene shows them.

    Attributes:
        id: the track id (0 for a single-person stream).
        joints: ``(16, 3)`` display coordinates.
        colours: their skeleton's colours.
    """

    id: int
    joints: np.ndarray
    colours: SkeletonColours


def camera_intrinsics(frame: FrameResult) -> np.ndarray:
    """The source camera's ``(3, 3)`` matrix K: from the header when it carries one, else the default.

    Accepted header fields (first found wins): ``camera_matrix`` (3x3), ``calibration.camera_matrix``,
    ``camera`` (the calibration stage's, docs/stream_format.md) or ``intrinsics`` as ``{fx, fy, cx, cy}``
    or ``{focal, center}``. Otherwise ``semgcn.codec.default_intrinsics(image_size)``, the lifter's
    own assumption.
    """
    header = frame.header or {}
    calibration = header.get("calibration") if isinstance(header.get("calibration"), dict) else {}
    for candidate in (header.get("camera_matrix"), calibration.get("camera_matrix")):
        try:
            k = np.asarray(candidate, dtype=np.float64)
            if k.shape == (3, 3) and np.all(np.isfinite(k)) and k[0, 0] > 0 and k[1, 1] > 0:
                return k
        except (TypeError, ValueError):
            pass
    for intr in (frame.camera, header.get("intrinsics")):
        if not isinstance(intr, dict):
            continue
        try:
            if "fx" in intr:
                fx, fy, cx, cy = (float(intr[k]) for k in ("fx", "fy", "cx", "cy"))
            else:
                fx = fy = float(intr["focal"])
                cx, cy = (float(c) for c in intr["center"])
        except (KeyError, TypeError, ValueError):
            continue
        if fx > 0 and fy > 0 and all(np.isfinite([fx, fy, cx, cy])):
            return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    focal, centre = default_intrinsics(frame.image_size)
    return np.array([[focal, 0.0, centre[0]], [0.0, focal, centre[1]], [0.0, 0.0, 1.0]])


def _fit_rigid(src: np.ndarray, dst: np.ndarray):
    """Rotation R and translation t with ``dst ~ src @ R.T + t`` (Kabsch), or None if degenerate."""
    from scipy.spatial.transform import Rotation

    if not (np.all(np.isfinite(src)) and np.all(np.isfinite(dst))):
        return None
    cs, cd = src.mean(0), dst.mean(0)
    rot, rssd = Rotation.align_vectors(dst - cd, src - cs)
    if rssd > 0.05 * np.sqrt(len(src)):  # the two poses are not the same body: no placement
        return None
    r = rot.as_matrix()
    return r, cd - r @ cs


def place_frame(frame: FrameResult, options: SceneOptions):
    """Joints and the camera pose of the frame's first person, in display coordinates
    (:func:`place_person`)."""
    return place_person(frame, frame.person, options)


def place_person(frame: FrameResult, person: PersonPose, options: SceneOptions, world: bool | None = None):
    """Joints and the camera pose of one person of a frame, in display coordinates.

    Args:
        frame: the decoded frame (its world frame header places the camera).
        person: one of its people, with ``joints_3d``.
        options: which coordinates and the default distance.
        world: draw the person's ``joints_world`` (default: when ``options`` asks for the world and the
            person has them).
    Returns:
        ``(joints (16, 3), camera_pose)`` where ``camera_pose`` is ``(R, t)`` mapping OpenCV camera
        coordinates to display coordinates (``p_display = R @ p_cam + t``), or None when the camera
        cannot be placed (world coordinates without a camera-frame root translation).
    """
    joints_cam = np.asarray(person.joints_3d, dtype=np.float64)
    root = person.root_translation
    offset = np.asarray(root, dtype=np.float64) if root is not None else np.array([0.0, 0.0, options.default_distance])
    joints_cam = joints_cam - joints_cam[ROOT] + offset
    world_joints = person.joints_world
    if world is None:
        world = options.coords == "world"
    if world and world_joints is not None:
        to_y_up = Z_UP_TO_Y_UP if _world_up(frame.world_frame) == "z" else np.eye(3)
        joints = np.asarray(world_joints, dtype=np.float64) @ to_y_up.T
        pose = _camera_in_world(frame.world_frame)
        if pose is not None:
            return joints, (to_y_up @ pose[0], to_y_up @ pose[1])
        return joints, (_fit_rigid(joints_cam, joints) if root is not None else None)
    return joints_cam @ CAMERA_TO_DISPLAY.T, (CAMERA_TO_DISPLAY, np.zeros(3))


def _world_up(world_frame) -> str:
    """"z" or "y": the up axis of the stream's world frame (a dict with ``up``, or a name like "z-up")."""
    if isinstance(world_frame, dict):
        return "z" if str(world_frame.get("up", "y")).lower().startswith("z") else "y"
    return "z" if "z-up" in str(world_frame or "").lower() else "y"


def _camera_in_world(world_frame):
    """``(R, t)`` with ``p_world = R @ p_cam + t`` from the calibration header, or None when absent.

    The header gives ``rotation_world_from_camera`` R and ``origin_in_camera_m`` o with
    ``p_world = R (p_cam - o)`` (calibration/world.py).
    """
    if not isinstance(world_frame, dict):
        return None
    try:
        r = np.asarray(world_frame["rotation_world_from_camera"], dtype=np.float64).reshape(3, 3)
        o = np.asarray(world_frame["origin_in_camera_m"], dtype=np.float64).reshape(3)
    except (KeyError, TypeError, ValueError):
        return None
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(o))):
        return None
    return r, -r @ o


class SceneState:
    """The viewer's memory across frames: the people in view, the trail, and smoothed floor height
    and look-at point.

    Args:
        options: placement and smoothing options.
    Attributes:
        people: the people of the newest frame, in its order (empty: nobody in view).
        several: the newest frame comes from a stream of several people (their ids are shown).
    """

    def __init__(self, options: SceneOptions = SceneOptions()):
        self.options = options
        self.trail_index = JOINT_INDEX[options.trail_joint] if options.trail_joint else None
        self.trail: collections.deque[tuple[float, np.ndarray]] = collections.deque()
        self.trail_id: int | None = options.trail_person
        self.people: list[ShownPerson] = []
        self.several = False
        self.camera_pose: tuple[np.ndarray, np.ndarray] | None = None
        if options.coords == "camera":
            self.camera_pose = (CAMERA_TO_DISPLAY, np.zeros(3))
        self.camera_matrix: np.ndarray | None = None
        self.image_size: tuple[int, int] = (640, 480)
        # Before the first person: the floor about a standing pelvis's height below the default spot.
        world = options.coords == "world"
        self.floor_y = 0.0 if world else -_DEFAULT_PELVIS_HEIGHT_M
        self.look_at = np.array([0.0, _DEFAULT_PELVIS_HEIGHT_M if world else 0.0, -options.default_distance])
        self._floor_target = self.floor_y
        self._seen_person = False
        self.world_shown = False  # False with coords="world": the stream has no joints_world (yet)
        self._last_t: float | None = None
        self._ankles: collections.deque[tuple[float, float]] = collections.deque()

    @property
    def joints(self) -> np.ndarray | None:
        """The first person's ``(16, 3)`` display joints, or None when nobody is in view."""
        return self.people[0].joints if self.people else None

    @property
    def centre(self) -> np.ndarray | None:
        """The group's centre (the mean of the pelvises in view), which the view follows; None: nobody."""
        return np.mean([p.joints[ROOT] for p in self.people], axis=0) if self.people else None

    @property
    def trailed(self) -> ShownPerson | None:
        """The person whose joint is trailed, when in view (the trail is drawn with them only)."""
        return next((p for p in self.people if p.id == self.trail_id), None)

    @property
    def trail_visible(self) -> bool:
        """Whether the trailed person is in view."""
        return self.trailed is not None

    def update(self, frame: FrameResult) -> None:
        """Take a new frame: a frame with nobody in it hides the skeletons (and the trail with them; the
        trail's points age out by capture time, so a brief detector dropout does not erase it)."""
        self.image_size = frame.image_size
        self.camera_matrix = camera_intrinsics(frame)
        self.several = several_people(frame)
        lifted = [p for p in frame.people if p.joints_3d is not None]
        if not lifted:
            self.people = []
            return
        # One frame for everybody: the world only when every person has world joints.
        world_shown = self.options.coords == "world" and all(p.joints_world is not None for p in lifted)
        if world_shown != self.world_shown:  # switched between world and camera coordinates
            self.trail.clear()
            self._ankles.clear()
        self.world_shown = world_shown
        people, poses = [], []
        for person in lifted:
            joints, camera_pose = place_person(frame, person, self.options, world_shown)
            if np.all(np.isfinite(joints)):
                people.append(ShownPerson(int(person.id), joints, colours_for(frame, person)))
                poses.append(camera_pose)
        self.people = people
        if not people:
            return
        self.camera_pose = next((pose for pose in poses if pose is not None), None)
        t = frame.t_capture
        if self._last_t is not None and t < self._last_t:  # the publisher restarted: old path is void
            self.trail.clear()
            self._ankles.clear()
        self._last_t = t
        self._extend_trail(t)
        self._lower_floor(t)
        if not self._seen_person:  # the first person: no glide from the default spot
            self._seen_person = True
            self.settle()

    def _extend_trail(self, t: float) -> None:
        """Age the trail out to ``trail_seconds`` before ``t`` and add the trailed person's joint."""
        if self.trail_index is None:
            return
        while self.trail and self.trail[0][0] < t - self.options.trail_seconds:
            self.trail.popleft()
        if self.options.trail_person is None and not self.trail_visible and not self.trail:
            self.trail_id = self.people[0].id  # nobody followed yet, or their path has aged out
        person = self.trailed
        if person is not None:
            self.trail.append((t, person.joints[self.trail_index].copy()))

    def _lower_floor(self, t: float) -> None:
        """The floor: just below the lowest ankle of anybody in the last seconds, so that a jump does
        not lift it; a world frame has its floor at height 0."""
        lowest = min(float(p.joints[j, 1]) for p in self.people for j in _FEET)
        self._ankles.append((t, lowest))
        while self._ankles[0][0] < t - _FLOOR_MEMORY_S:
            self._ankles.popleft()
        floor = min(y for _, y in self._ankles) - _ANKLE_HEIGHT_M
        self._floor_target = 0.0 if self.world_shown else floor

    def step(self, dt: float) -> None:
        """Advance the low-pass filters by ``dt`` seconds towards the newest poses (no jumps)."""
        if not self.people:
            return
        alpha = 1.0 - np.exp(-max(dt, 0.0) / max(self.options.follow_time_constant, 1e-6))
        self.look_at = self.look_at + alpha * (self.centre - self.look_at)
        self.floor_y = self.floor_y + alpha * (self._floor_target - self.floor_y)

    def settle(self) -> None:
        """Jump the filters to their targets (for a single offscreen snapshot)."""
        if self.people:
            self.look_at = self.centre.copy()
            self.floor_y = self._floor_target

    def trail_points(self) -> np.ndarray:
        """``(N, 3)`` positions of the trailed joint over the last ``trail_seconds``."""
        return np.array([p for _, p in self.trail]).reshape(-1, 3)
