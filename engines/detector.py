"""The 2D pose detector: BlazePose on our own ONNX / TensorRT engines, or the mediapipe package.

    from engines.detector import PoseDetector
    det = PoseDetector(backend="onnxruntime")        # "onnxruntime-cuda", "tensorrt", "mediapipe"
    result = det(frame_bgr)                           # video / live: tracking + smoothing
    if result is not None:
        result.keypoints_2d, result.confidence        # (16, 2) px and (16,) in the canonical skeleton
    det.detect_image(photo_bgr)                       # one independent image, no state
    PoseDetector(max_people=3).track(frame_bgr)       # several people, each with a track_id
    det.reset()                                       # before a new video

``det(frame)`` returns None when nobody is in the frame and never raises for that; a frame that is
not an image (None, wrong dtype, wrong channel count, empty) raises a ValueError that says why.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engines.backends import DETECTOR_BACKENDS, MAX_THREADS
from engines.blazepose.mapping import blazepose_to_canonical
from engines.blazepose.people import PeopleOptions, PeopleTracker
from engines.blazepose.pipeline import BlazePosePipeline, BlazePoseOptions

MODEL_DIR = Path(__file__).resolve().parent / "models" / "blazepose"
DETECTOR_MODEL = "pose_detection.onnx"
LANDMARK_MODEL = "pose_landmark_full.onnx"
BACKENDS = DETECTOR_BACKENDS


@dataclass
class DetectorOptions:
    """Options of :class:`PoseDetector`.

    Attributes:
        backend: "onnxruntime" (CPU, default), "onnxruntime-cuda" (falls back to the CPU with a
            warning), "tensorrt" (FP16 engines, cached plans; needs tensorrt + cuda-python) or
            "mediapipe" (the mediapipe package's own Pose, model_complexity=1).
        tracking: in ``__call__``, reuse the previous frame's pose to place the next crop and run
            the person detector only when the pose is lost (video / live mode).
        smoothing: One Euro smoothing of the landmarks across frames (``__call__`` with tracking).
        min_detection_confidence: person-detector score threshold in [0, 1].
        min_presence: pose-presence threshold in [0, 1] below which a tracked pose counts as lost.
        model_dir: folder with pose_detection.onnx and pose_landmark_full.onnx (default: the
            shipped engines/models/blazepose).
        threads: ONNX Runtime intra-op threads (0: its default, all cores).
        fp16: TensorRT FP16 kernels.
        trt_cache_dir: TensorRT plan cache folder (None: engines.trt_engine's default).
        max_people: most people :meth:`PoseDetector.track` follows at once (1: BlazePose's own single
            person tracking, exactly as MediaPipe; more: ``engines.blazepose.people``, not with the
            mediapipe backend).
        detect_every: with ``max_people`` above 1, while fewer are followed, run the person detector
            every this many frames to find newcomers.
    """

    backend: str = "onnxruntime"
    tracking: bool = True
    smoothing: bool = True
    min_detection_confidence: float = 0.5
    min_presence: float = 0.5
    model_dir: str | None = None
    threads: int = 0
    fp16: bool = True
    trt_cache_dir: str | None = None
    max_people: int = 1
    detect_every: int = 10


#: The most people one detector follows (each costs one landmark-model run per frame).
MAX_PEOPLE = 16


@dataclass
class DetectionResult:
    """One person's 2D pose in one frame.

    Attributes:
        keypoints_2d: (16, 2) float32 pixels, canonical skeleton (semgcn.skeleton order).
        confidence: (16,) float32 in [0, 1], per joint (minimum over its BlazePose sources).
        landmarks: (33, 5) float32 BlazePose landmarks: x px, y px, z (pixels, relative to the
            hips, smaller = nearer the camera; MediaPipe's normalised z times the image width),
            visibility, presence.
        world_landmarks: (33, 3) float32 metres, origin between the hips, or None.
        time_ms: wall time of this call in milliseconds.
        image_size: (width, height) of the frame.
        detected: True if the person detector ran for this frame, False if tracking placed the crop
            (always True for detect_image; None for the mediapipe backend, which does not say).
        track_id: the person's identity from :meth:`PoseDetector.track`: the same while the person
            is followed from frame to frame, a new one for a new track (0 elsewhere).
    """

    keypoints_2d: np.ndarray
    confidence: np.ndarray
    landmarks: np.ndarray
    world_landmarks: np.ndarray | None
    time_ms: float
    image_size: tuple[int, int]
    detected: bool | None = field(default=None)
    track_id: int = 0


def check_frame(frame) -> np.ndarray:
    """Return ``frame`` if it is an (H, W, 3) uint8 image, else raise a ValueError that says why.

    Args:
        frame: the candidate image (BGR as OpenCV reads it).
    """
    if frame is None:
        raise ValueError("frame is None (a camera or video that returned no image?)")
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"frame must be a numpy array (H, W, 3) uint8, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"frame must be uint8 (0-255) BGR, got dtype {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        hint = " (grayscale: cv2.cvtColor(f, cv2.COLOR_GRAY2BGR); BGRA: COLOR_BGRA2BGR)" \
            if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (1, 4)) else ""
        raise ValueError(f"frame must have shape (H, W, 3), got {frame.shape}{hint}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty: shape {frame.shape}")
    return frame


class PoseDetector:
    """Single-person 2D pose detector (BlazePose full).

    Args:
        backend: shortcut for ``options.backend`` (None: keep the options' value).
        options: all settings (default :class:`DetectorOptions`).
        **overrides: any DetectorOptions field, e.g. ``tracking=False``.

    Raises:
        ValueError: unknown backend or option values out of range.
        engines.trt_engine.TensorRTUnavailable: backend="tensorrt" without TensorRT (says what to
            install).
    """

    def __init__(self, backend: str | None = None, options: DetectorOptions | None = None, **overrides):
        opts = replace(options or DetectorOptions(), **overrides)
        if backend is not None:
            opts = replace(opts, backend=backend)
        if opts.backend not in BACKENDS:
            raise ValueError(f"unknown detector backend {opts.backend!r}; choose one of {BACKENDS}")
        if not 0 <= opts.threads <= MAX_THREADS:
            raise ValueError(f"threads must be between 0 (the runtime's choice) and {MAX_THREADS} (the cores here), "
                             f"got {opts.threads}")
        for name in ("min_detection_confidence", "min_presence"):
            if not 0.0 <= getattr(opts, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(opts, name)}")
        if not 1 <= opts.max_people <= MAX_PEOPLE or opts.detect_every < 1:
            raise ValueError(f"max_people must be 1 to {MAX_PEOPLE} and detect_every >= 1, got "
                             f"{opts.max_people}, {opts.detect_every}")
        if opts.max_people > 1 and opts.backend == "mediapipe":
            raise ValueError("the mediapipe backend follows one person; use our own engines for max_people > 1")
        self.options = opts
        self._mediapipe = None
        self._pipeline = None
        self._people = None
        self._single_id, self._single_present = -1, False
        if opts.backend == "mediapipe":
            from engines.backends.detector_mediapipe import MediaPipePose
            self._mediapipe = MediaPipePose(opts.smoothing, opts.min_detection_confidence, opts.min_presence)
        else:
            self._pipeline = BlazePosePipeline(*self._make_models(opts), BlazePoseOptions(
                opts.min_detection_confidence, opts.min_presence, opts.smoothing))
            if opts.max_people > 1:
                self._people = PeopleTracker(self._pipeline, PeopleOptions(
                    max_people=opts.max_people, detect_every=opts.detect_every), smoothing=opts.smoothing)

    @staticmethod
    def _make_models(opts: DetectorOptions):
        model_dir = Path(opts.model_dir) if opts.model_dir else MODEL_DIR
        paths = (model_dir / DETECTOR_MODEL, model_dir / LANDMARK_MODEL)
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"BlazePose model missing: {path} (shipped under "
                                        f"engines/models/blazepose; rebuild with tools/convert_blazepose.py)")
        if opts.backend == "tensorrt":
            from engines.backends.detector_tensorrt import make_models
            return make_models(*paths, fp16=opts.fp16, cache_dir=opts.trt_cache_dir)
        from engines.backends.detector_onnxruntime import make_models
        device = "cuda" if opts.backend == "onnxruntime-cuda" else "cpu"
        return make_models(*paths, device=device, threads=opts.threads)

    def __call__(self, frame_bgr: np.ndarray, timestamp: float | None = None) -> DetectionResult | None:
        """Pose of the person in a video / live frame (tracking and smoothing per the options).

        Args:
            frame_bgr: (H, W, 3) uint8 BGR.
            timestamp: capture time in seconds (drives the smoothing); None: the monotonic clock now.

        Returns:
            The pose, or None when nobody is in the frame.
        """
        return self._run(frame_bgr, self.options.tracking, timestamp)

    def track(self, frame_bgr: np.ndarray, timestamp: float | None = None) -> list[DetectionResult]:
        """Every person followed in a video / live frame (up to ``options.max_people``), each with
        its ``track_id``; an empty list when nobody is there. With ``max_people == 1`` this is
        ``__call__``'s person, whose id changes only when the person was lost and a new one found.

        Args:
            frame_bgr: (H, W, 3) uint8 BGR.
            timestamp: capture time in seconds (drives the smoothing); None: the monotonic clock now.
        """
        if self._people is None:
            result = self(frame_bgr, timestamp)
            if result is None:
                self._single_present = False
                return []
            if not self._single_present or result.detected:  # a new track started
                self._single_id += 1
            self._single_present = True
            result.track_id = self._single_id
            return [result]
        frame = check_frame(frame_bgr)
        start = time.perf_counter()
        stamp = time.monotonic() if timestamp is None else float(timestamp)
        people = self._people.process(frame, stamp)
        elapsed = (time.perf_counter() - start) * 1e3
        return [self._result(estimate.landmarks, estimate.world_landmarks, elapsed, frame, estimate.detected, pid)
                for pid, estimate in people]

    def detect_image(self, image_bgr: np.ndarray) -> DetectionResult | None:
        """Pose in one independent image: the detector always runs, nothing is smoothed or kept.

        Args:
            image_bgr: (H, W, 3) uint8 BGR.
        """
        return self._run(image_bgr, False, None)

    def reset(self) -> None:
        """Forget the tracked person and the smoothing state (call before a new video)."""
        if self._pipeline is not None:
            self._pipeline.reset()
        if self._people is not None:
            self._people.reset()
        if self._mediapipe is not None:
            self._mediapipe.reset()
        self._single_present = False

    def close(self) -> None:
        """Release the backend's resources."""
        if self._mediapipe is not None:
            self._mediapipe.close()

    def __enter__(self) -> "PoseDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, frame, tracking: bool, timestamp: float | None) -> DetectionResult | None:
        frame = check_frame(frame)
        start = time.perf_counter()
        detected = None
        if self._mediapipe is not None:
            out = self._mediapipe.process(frame, tracking=tracking)
            if out is None:
                return None
            landmarks, world = out
        else:
            stamp = time.monotonic() if timestamp is None else float(timestamp)
            estimate = self._pipeline.process(frame, stamp, tracking=tracking)
            if estimate is None:
                return None
            landmarks, world, detected = estimate.landmarks, estimate.world_landmarks, estimate.detected
        return self._result(landmarks, world, (time.perf_counter() - start) * 1e3, frame, detected)

    @staticmethod
    def _result(landmarks, world, elapsed_ms: float, frame, detected, track_id: int = 0) -> DetectionResult:
        keypoints, confidence = blazepose_to_canonical(landmarks)
        return DetectionResult(keypoints, confidence, landmarks, world, elapsed_ms, (frame.shape[1], frame.shape[0]),
                               detected, track_id)

    def describe(self) -> dict:
        """Backend name and what it runs on (for logs and stream metadata)."""
        info = {"backend": self.options.backend, "tracking": self.options.tracking,
                "smoothing": self.options.smoothing}
        if self._pipeline is not None:
            info["models"] = [r.describe() for r in (self._pipeline.detector, self._pipeline.landmark_model)]
        return info
