"""The typed per-frame record: what the pipeline made of one frame, for every consumer.

``FrameResult`` is produced once per frame by ``realtime.core.pipeline.Pipeline`` (detection, lifting,
smoothing, calibration and any later stage fill it in) and handed, unchanged from then on, to every
consumer: the ZeroMQ publisher, the recorder, the overlay, the evaluator and the bridges. The same
type comes back out of ``realtime.stream.wire.decode`` and out of a recorded session, so a consumer
works the same on the live pipeline, on a stream from another process and on a recording.

A frame holds a list of ``PersonPose`` (empty when nobody is in view). The single-person pipeline of
today fills at most one; the fields are per person so that several people need no new type.
Conventions (SKELETON.md): 2D in pixels, origin top-left; 3D in metres, camera frame with OpenCV axes
(x right, y down, z forward), pelvis at the origin; joints in ``semgcn.skeleton.JOINT_NAMES`` order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from semgcn.skeleton import NUM_JOINTS
from semgcn.solver.pose import SkeletonPose


@dataclass
class PersonPose:
    """One person in one frame.

    Attributes:
        id: track identity, stable while the person stays in view (0 for the single-person pipeline).
        keypoints_2d: ``(16, 2)`` float32 pixels, the detector's (distorted) image coordinates; a joint
            the detector lost sits on its nearest kept ancestor, with confidence 0.
        confidence: ``(16,)`` float32 in [0, 1].
        joints_3d: ``(16, 3)`` float32 metres, camera frame, pelvis at the origin (metric-scaled when
            calibration scales it); None until the lifter ran.
        landmarks: ``(33, 5)`` BlazePose landmarks (x px, y px, z, visibility, presence), or None.
        world_landmarks: ``(33, 3)`` BlazePose world landmarks in metres, or None.
        lift_input: ``(16, 2)`` the undistorted keypoints the lifter was given (pixels of the ideal
            camera), or None.
        root_translation: ``(3,)`` metres, the pelvis in the camera frame (calibration), or None.
        joints_world: ``(16, 3)`` metres in the world frame that ``FrameResult.world_frame`` names, or None.
        scale: how calibration scaled ``joints_3d`` (method, factor, ...), or None.
        position: how the root translation was fitted (ok, joints_used, rms_px), or None.
        extra_arrays: further named float32 arrays that travel with this person on the stream
            (``gt_joints_3d`` from the evaluator, arrays of later stages). Consumers ignore names they
            do not know.
        skeleton: the constant-bone humanoid with joint rotations (``semgcn.solver.pose.SkeletonPose``),
            set by the ``solve`` stage (``realtime.core.skeleton_stage``) when a rotation consumer
            runs, else None.
    """

    id: int = 0
    keypoints_2d: np.ndarray | None = None
    confidence: np.ndarray | None = None
    joints_3d: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    world_landmarks: np.ndarray | None = None
    lift_input: np.ndarray | None = None
    root_translation: np.ndarray | None = None
    joints_world: np.ndarray | None = None
    scale: dict[str, Any] | None = None
    position: dict[str, Any] | None = None
    extra_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    skeleton: SkeletonPose | None = None


@dataclass
class FrameResult:
    """One frame, as every consumer receives it (see the module docstring).

    Attributes:
        frame_index: index of the frame at the source (gaps: frames dropped before processing).
        t_capture: wall-clock time (UNIX seconds) of the capture.
        image_size: ``(w, h)`` of the source image in pixels.
        source: short description of the source ("webcam:0", "demo", a file name...).
        people: the people found and lifted in the frame (empty: nobody there, or the lifting failed).
        t_publish: wall-clock time the frame was handed to the consumers (0 until then).
        media_time: the frame's time in its video or demo clip (seconds), None for live sources.
        image: ``(H, W, 3)`` uint8 BGR camera image (in process only, never sent on the stream).
        seq: the pipeline's message counter (0, 1, 2...; gaps at a subscriber are messages it lost).
        timings_ms: per-stage durations of this frame up to the consumers, in the order they ran.
        dropped_at_source: frames the source had dropped so far.
        backends: engine names and model identity, e.g. ``{"detector": "onnxruntime", ...}``.
        smoothing: whether the 3D joints were temporally smoothed (None: not said).
        error: why no pose came out although the detector ran (detector or lifter failure), or None.
        latency_ms: capture-to-publish latency in milliseconds, None until published.
        camera: the camera intrinsics used (calibration), or None.
        world_frame: the world frame of ``joints_world`` (name, up axis, camera pose) or its status.
        extra_arrays: frame-level named arrays that belong to nobody in particular.
        wire_major: the stream schema's major version this frame travels in: 1 (one person, the default)
            or 2 (a list of people; the pipeline sets it when it follows several people).
        header: a decoded frame's whole wire header (fields this class does not name are kept here
            and sent again, e.g. ``replay``); for a pipeline frame, extra header fields to send.
        encodings: this frame's encodings by format, each built by the first consumer that needs it and
            shared with the others: ``"wire"`` (``encoded``: the publisher and the recorder), ``"foxglove"``
            (the recorder's Foxglove channels and the live Foxglove server).
    """

    frame_index: int
    t_capture: float
    image_size: tuple[int, int]
    source: str = ""
    people: list[PersonPose] = field(default_factory=list)
    t_publish: float = 0.0
    media_time: float | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    seq: int | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    dropped_at_source: int | None = None
    backends: dict[str, str] | None = None
    smoothing: bool | None = None
    error: str | None = None
    latency_ms: float | None = None
    camera: dict[str, Any] | None = None
    world_frame: dict[str, Any] | None = None
    extra_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    wire_major: int = 1
    header: dict[str, Any] = field(default_factory=dict, repr=False)
    encodings: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def encoded(self) -> Any:
        """The wire message (``realtime.stream.wire``), or None before the first consumer encodes it."""
        return self.encodings.get("wire")

    @encoded.setter
    def encoded(self, message: Any) -> None:
        if message is None:
            self.encodings.pop("wire", None)
        else:
            self.encodings["wire"] = message

    @property
    def several_people(self) -> bool:
        """Whether this frame comes from a pipeline that follows several people (``semgcn.pose/2``):
        every consumer that treats such streams differently (ids, per-person topics, holds) asks this."""
        return self.wire_major >= 2

    # -- the first person, for code written for one person -----------------------------------------
    @property
    def person(self) -> PersonPose | None:
        """The first person, or None when nobody is in the frame."""
        return self.people[0] if self.people else None

    @property
    def has_person(self) -> bool:
        """Whether anybody was found and lifted in this frame."""
        return bool(self.people)

    @property
    def keypoints_2d(self) -> np.ndarray | None:
        """The first person's ``(16, 2)`` keypoints, or None."""
        return self.people[0].keypoints_2d if self.people else None

    @property
    def confidence(self) -> np.ndarray | None:
        """The first person's ``(16,)`` confidences, or None."""
        return self.people[0].confidence if self.people else None

    @property
    def joints_3d(self) -> np.ndarray | None:
        """The first person's ``(16, 3)`` 3D joints, or None."""
        return self.people[0].joints_3d if self.people else None

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the first person and of the frame by its stream name (a new dict)."""
        arrays = dict(self.extra_arrays)
        if self.people:
            arrays.update(person_arrays(self.people[0]))
        return arrays

    @property
    def timestamp(self) -> float:
        """Seconds for temporal filters: ``media_time`` when the source has one, else ``t_capture``."""
        return self.t_capture if self.media_time is None else self.media_time

    @property
    def latency_s(self) -> float:
        """Capture-to-publish latency in seconds."""
        return self.t_publish - self.t_capture


#: The per-person arrays with a field of their own, by stream name, and their shapes.
PERSON_ARRAY_FIELDS: dict[str, tuple[int, ...]] = {
    "keypoints_2d": (NUM_JOINTS, 2),
    "confidence": (NUM_JOINTS,),
    "joints_3d": (NUM_JOINTS, 3),
    "root_translation": (3,),
    "joints_world": (NUM_JOINTS, 3),
}


def person_arrays(person: PersonPose) -> dict[str, np.ndarray]:
    """A person's arrays by stream name: the standard ones that are set, then ``extra_arrays``."""
    arrays = {name: getattr(person, name) for name in PERSON_ARRAY_FIELDS if getattr(person, name) is not None}
    arrays.update(person.extra_arrays)
    return arrays
