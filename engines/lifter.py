"""The deployable 2D -> 3D lifter: SemGCN on ONNX Runtime (default), TensorRT or PyTorch.

    from engines.lifter import Lifter
    lifter = Lifter()                                   # shipped weights, ONNX Runtime, CPU
    pose = lifter.predict(keypoints_px, image_size=(1280, 720))          # (16, 2) -> (16, 3)
    poses = lifter.predict(batch_px, image_size=(1280, 720), focal=900)  # (N, 16, 2) -> (N, 16, 3)

Output: float32 metres in the camera frame (OpenCV axes: x right, y down, z forward) with the pelvis
exactly at the origin, joints in ``semgcn.skeleton.JOINT_NAMES`` order. One ``(16, 2)`` pose gives one
``(16, 3)`` pose; an ``(N, 16, 2)`` batch gives ``(N, 16, 3)`` (also for N = 1).

Absolute size: a monocular lifter sees shape, not size. The output has the size of a typical adult
of the training data; scale it with the user's height (``calibration/``) for metric accuracy.

Settings come in a ``LifterOptions`` (``Lifter(options=...)`` or keyword overrides such as
``Lifter(backend="onnxruntime-cuda", threads=1)``), named like the detector's ``DetectorOptions``; both
engines are context managers. This module imports only numpy and ``semgcn``'s numpy modules at import
time; ONNX Runtime, TensorRT and torch are imported when a backend is created.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engines.backends import LIFTER_BACKENDS, MAX_THREADS
from semgcn.checksums import file_sha256
from semgcn.codec import check_keypoints, flip_average, flip_inputs, normalize_2d
from semgcn.skeleton import NUM_JOINTS, ROOT

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_ONNX = MODELS_DIR / "semgcn_lifter.onnx"
DEFAULT_CHECKPOINT = MODELS_DIR / "semgcn_lifter.pt"
BACKENDS = LIFTER_BACKENDS
#: Keypoints spread less than this (pixels, RMS about their mean) are one blob, not a pose.
MIN_SPREAD_PX = 1e-3


@dataclass
class LifterOptions:
    """Options of :class:`Lifter` (the same names as ``engines.detector.DetectorOptions`` for the same things).

    Attributes:
        backend: "onnxruntime" (CPU, default), "onnxruntime-cuda" (falls back to the CPU with a
            warning), "tensorrt" (FP16 engine built from the ONNX file and cached; needs tensorrt +
            cuda-python and an NVIDIA GPU), "torch" (PyTorch eager on the ``.pt`` checkpoint, CPU) or
            "torch-cuda" (the same on the GPU; falls back to the CPU with a warning).
        model_path: weights file (``.onnx`` for the ONNX Runtime and TensorRT backends, ``.pt`` for
            torch); None for the shipped ``engines/models/semgcn_lifter.onnx`` / ``.pt``.
        threads: CPU threads of ONNX Runtime / torch (0: the runtime's choice).
        fp16: TensorRT FP16 kernels.
        trt_cache_dir: TensorRT plan cache folder (None: ``engines.trt_engine``'s default).
        flip_test: test-time flip augmentation: every pose is lifted together with its mirror image
            (one backend call on twice the batch) and the two predictions, the second mirrored back,
            are averaged (``semgcn.codec.flip_average``); the shipped model is measured this way.
    """

    backend: str = "onnxruntime"
    model_path: str | None = None
    threads: int = 0
    fp16: bool = True
    trt_cache_dir: str | None = None
    flip_test: bool = True


@dataclass
class LifterInfo:
    """What a :class:`Lifter` runs.

    Attributes:
        backend: one of ``LIFTER_BACKENDS``.
        model_path: the weights file.
        model_sha256: its SHA-256 (identifies the weights in logs and recordings).
        model_name: architecture name from the file's metadata ("semgcn", ...), or "" if absent.
        details: backend details (providers, device, TensorRT plan, file metadata).
    """

    backend: str
    model_path: str
    model_sha256: str
    model_name: str = ""
    details: dict = field(default_factory=dict)


def _default_model(backend: str) -> Path:
    path = DEFAULT_CHECKPOINT if backend.startswith("torch") else DEFAULT_ONNX
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped lifter weights are missing: {path}. Train and export them "
            f"(python -m tools.train ...; python -m tools.export_lifter ...) or pass model_path=")
    return path


def _make_backend(opts: LifterOptions, path: Path):
    threads = opts.threads or None
    if opts.backend.startswith("onnxruntime"):
        from engines.backends.lifter_onnxruntime import OnnxRuntimeLifterBackend
        from engines.backends.ort_session import CPU, CUDA
        providers = [CUDA, CPU] if opts.backend == "onnxruntime-cuda" else [CPU]
        return OnnxRuntimeLifterBackend(path, providers=providers, threads=threads)
    if opts.backend == "tensorrt":
        from engines.backends.lifter_tensorrt import TensorRTLifterBackend
        return TensorRTLifterBackend(path, cache_dir=opts.trt_cache_dir, fp16=opts.fp16)
    from engines.backends.lifter_torch import TorchLifterBackend
    return TorchLifterBackend(path, device="cuda" if opts.backend == "torch-cuda" else "cpu", threads=threads)


class Lifter:
    """SemGCN 2D -> 3D lifter.

    Args:
        backend: shortcut for ``options.backend`` (None: keep the options' value).
        options: all settings (default :class:`LifterOptions`).
        **overrides: any LifterOptions field, e.g. ``model_path=``, ``threads=1``.
    Raises:
        ValueError: unknown backend, or a model file of the wrong kind.
        FileNotFoundError: the weights file does not exist.
        engines.trt_engine.TensorRTUnavailable: backend "tensorrt" without TensorRT.
    """

    def __init__(self, backend: str | None = None, options: LifterOptions | None = None, **overrides):
        opts = replace(options or LifterOptions(), **overrides)
        if backend is not None:
            opts = replace(opts, backend=backend)
        if opts.backend not in BACKENDS:
            raise ValueError(f"unknown lifter backend {opts.backend!r}; choose one of {', '.join(BACKENDS)}")
        if not 0 <= opts.threads <= MAX_THREADS:
            raise ValueError(f"threads must be between 0 (the runtime's choice) and {MAX_THREADS} (the cores here), "
                             f"got {opts.threads}")
        path = Path(opts.model_path) if opts.model_path is not None else _default_model(opts.backend)
        if not path.is_file():
            raise FileNotFoundError(f"lifter model not found: {path}")
        suffixes = (".pt", ".pth") if opts.backend.startswith("torch") else (".onnx",)
        if path.suffix.lower() not in suffixes:
            raise ValueError(f"backend {opts.backend!r} needs a {suffixes[0]} file, got {path}")
        self.options = opts
        self._backend = _make_backend(opts, path)
        details = self._backend.describe()
        meta = details.get("metadata", {})
        self.info = LifterInfo(backend=opts.backend, model_path=str(path), model_sha256=file_sha256(path),
                               model_name=str(meta.get("semgcn.model", "")), details=details)

    @property
    def backend(self) -> str:
        """The backend name."""
        return self.info.backend

    def predict(self, keypoints_2d, image_size, focal=None, center=None) -> np.ndarray:
        """Lift pixel keypoints to root-relative 3D poses.

        The keypoints must be finite: a detector's pose with lost joints goes through
        ``semgcn.codec.prepare_keypoints`` first (the training's convention for lost joints).

        Args:
            keypoints_2d: ``(16, 2)`` or ``(N, 16, 2)`` pixel coordinates (origin top-left, x right,
                y down) in ``semgcn.skeleton.JOINT_NAMES`` order.
            image_size: ``(w, h)`` in pixels, or ``(N, 2)``.
            focal: focal length in pixels, a scalar or ``(N,)``; None assumes a typical webcam
                field of view (``semgcn.codec.DEFAULT_HFOV_DEG``).
            center: principal point in pixels, ``(2,)`` or ``(N, 2)``; None for the image centre.
        Returns:
            ``(16, 3)`` for one pose or ``(N, 16, 3)`` for a batch: float32 metres, camera frame,
            pelvis at the origin.
        Raises:
            ValueError: wrong shapes, NaN / inf, non-positive sizes or focal lengths, or a pose whose
                keypoints all coincide.
        """
        single = np.ndim(keypoints_2d) == 2
        kp = check_keypoints(keypoints_2d)
        n = kp.shape[0]
        if n == 0:
            return np.zeros((0, NUM_JOINTS, 3), dtype=np.float32)
        size = _per_pose("image_size", image_size, n, (2,), positive=True)
        f = None if focal is None else _per_pose("focal", focal, n, (), positive=True)
        c = None if center is None else _per_pose("center", center, n, (2,), positive=False)
        spread = np.sqrt(((kp - kp.mean(axis=1, keepdims=True)) ** 2).sum(-1).mean(-1))
        if np.any(spread < MIN_SPREAD_PX):
            bad = np.flatnonzero(spread < MIN_SPREAD_PX)[:10].tolist()
            raise ValueError(f"poses {bad} have all 16 keypoints at one point: not a body to lift")
        x = normalize_2d(kp, size, f, c)
        if self.options.flip_test:
            y = flip_average(self._backend.run(np.concatenate([x, flip_inputs(x)])))
        else:
            y = np.asarray(self._backend.run(x), dtype=np.float32)
        if y.shape != (n, NUM_JOINTS, 3) or not np.all(np.isfinite(y)):
            raise RuntimeError(f"the {self.backend} backend returned {y.shape} with non-finite values; "
                               f"the model file {self.info.model_path} may be corrupt")
        y = y - y[:, ROOT : ROOT + 1, :]
        return y[0] if single else y

    def close(self) -> None:
        """Release the backend (its session or engine is freed with the last reference)."""
        self._backend = None

    def __enter__(self) -> "Lifter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Lifter(backend={self.backend!r}, model={self.info.model_path!r})"


def _per_pose(name: str, value, n: int, item_shape: tuple, positive: bool) -> np.ndarray:
    """Validate a per-call or per-pose camera value and broadcast it to ``(n, *item_shape)``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers, got {value!r}") from exc
    if arr.shape not in (item_shape, (n,) + item_shape):
        want = " or ".join(str(s) for s in ((item_shape or "a scalar"), (n,) + item_shape))
        raise ValueError(f"{name} must have shape {want} for {n} poses, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or (positive and np.any(arr <= 0)):
        raise ValueError(f"{name} must be finite{' and positive' if positive else ''}, got {value!r}")
    return np.broadcast_to(arr, (n,) + item_shape)
