"""Everything that decides an offline result, in one picklable value that travels to every Ray worker.

Two runs with equal ``OfflineSettings`` on the same input give the same frames (``docs/offline.md``,
"Determinism"), locally or on any worker: nothing else (the wall clock, the worker, the order in
which tasks finish) enters the result.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from realtime.batch.redetect import RedetectOptions

FORMATS = ("bvh", "csv", "json", "ros2bag")


@dataclass(frozen=True)
class SmoothingSettings:
    """The zero-phase smoothing of each person's tracks (``realtime.batch.refine``).

    Attributes:
        enabled: False: the lifter's poses as they are (bone lengths still made constant).
        cutoff_hz: low-pass cut-off of 2D keypoints, landmarks and the 3D joints' x and y.
        depth_cutoff_hz: cut-off of the 3D joints' depth (camera z), which one view measures worst.
        order: Butterworth order of each pass (run forwards and backwards: twice this, zero phase).
        max_gap_s: a person unseen longer than this starts a new track (own bones, own smoothing).
        jump_speed: a 2D jump faster than this (body sizes per second) also starts a new track.
        constant_bones: rebuild every pose with its track's robust bone lengths over the whole track.
    """

    enabled: bool = True
    cutoff_hz: float = 3.0
    depth_cutoff_hz: float = 2.0
    order: int = 2
    max_gap_s: float = 0.5
    jump_speed: float = 8.0
    constant_bones: bool = True


@dataclass(frozen=True)
class OfflineSettings:
    """How inputs are turned into sessions (``python -m tools.process`` fills it from its options).

    Attributes:
        detector: detector backend (``engines.backends.DETECTOR_BACKENDS``).
        detector_threads: ONNX Runtime threads per process (1: one worker per core scales best).
        detector_smoothing: BlazePose's own causal landmark smoothing (off by default offline: the
            zero-phase smoothing replaces it without its lag, and chunks then agree sooner).
        detector_tracking: BlazePose's tracking from frame to frame; False: the person detector on
            every frame (``realtime.batch.redetect.EveryFrameDetector``).
        max_people: people the detector follows at once (``engines.detector.DetectorOptions.max_people``).
        redetect: ``RedetectOptions`` (detection where tracking is unsure; with one person only).
        lifter: lifter backend; lifter_model: its weights (None: the shipped ones).
        calibration: a ``semgcn.camera/1`` file, or None for assumed intrinsics (stated in the output).
        height, scale, world, up: as ``run_live.py`` (docs/calibration.md).
        lost_below: as ``run_live.py --lost-below``.
        image_fps: frame rate of image folders.
        chunk_frames: frames per task of a long video (0: one task per input); overlap: frames read
            before each chunk so that tracking has settled where its own frames start.
        smoothing: ``SmoothingSettings``.
        formats: exports besides the session (``FORMATS``).
    """

    detector: str = "onnxruntime"
    detector_threads: int = 1
    detector_smoothing: bool = False
    detector_tracking: bool = True
    max_people: int = 1
    redetect: RedetectOptions = field(default_factory=RedetectOptions)
    lifter: str = "onnxruntime"
    lifter_model: str | None = None
    calibration: str | None = None
    height: float | None = None
    scale: str | None = None
    world: str = "auto"
    up: str = "y"
    lost_below: float = 0.0
    image_fps: float = 30.0
    chunk_frames: int = 1800
    overlap: int = 60
    smoothing: SmoothingSettings = field(default_factory=SmoothingSettings)
    formats: tuple[str, ...] = ("bvh", "csv")

    def describe(self) -> dict:
        """The settings as JSON-able metadata."""
        return asdict(self)
