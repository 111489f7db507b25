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

This module imports only numpy, ``semgcn.codec`` / ``semgcn.skeleton`` and the pure-Python helpers of
``engines.trt_engine`` at import time; ONNX Runtime, TensorRT and torch are imported when a backend
is created.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engines.trt_engine import file_sha256
from semgcn.codec import check_keypoints, fill_lost_limbs, normalize_2d
from semgcn.skeleton import NUM_JOINTS, ROOT

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_ONNX = MODELS_DIR / "semgcn_lifter.onnx"
DEFAULT_CHECKPOINT = MODELS_DIR / "semgcn_lifter.pt"
BACKENDS = ("onnxruntime", "tensorrt", "torch")
#: Keypoints spread less than this (pixels, RMS about their mean) are one blob, not a pose.
MIN_SPREAD_PX = 1e-3


@dataclass
class LifterInfo:
    """What a :class:`Lifter` runs.

    Attributes:
        backend: "onnxruntime", "tensorrt" or "torch".
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
    path = DEFAULT_CHECKPOINT if backend == "torch" else DEFAULT_ONNX
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped lifter weights are missing: {path}. Train and export them "
            f"(python -m tools.train ...; python -m tools.export_lifter ...) or pass model_path=")
    return path


def _make_backend(backend: str, path: Path, providers, threads, cache_dir, device):
    if backend == "onnxruntime":
        from engines.backends.lifter_onnxruntime import OnnxRuntimeLifterBackend
        return OnnxRuntimeLifterBackend(path, providers=providers, threads=threads)
    if backend == "tensorrt":
        from engines.backends.lifter_tensorrt import TensorRTLifterBackend
        return TensorRTLifterBackend(path, cache_dir=cache_dir)
    from engines.backends.lifter_torch import TorchLifterBackend
    return TorchLifterBackend(path, device=device, threads=threads)


class Lifter:
    """SemGCN 2D -> 3D lifter.

    Args:
        backend: "onnxruntime" (default; CPU unless ``providers`` say otherwise), "tensorrt"
            (FP16 engine built from the ONNX file, needs ``pip install tensorrt cuda-python`` and an
            NVIDIA GPU), or "torch" (PyTorch eager on the ``.pt`` checkpoint).
        model_path: weights file (``.onnx`` for onnxruntime / tensorrt, ``.pt`` for torch); None for
            the shipped ``engines/models/semgcn_lifter.onnx`` / ``.pt``.
        providers: ONNX Runtime providers, e.g. ``["CUDAExecutionProvider", "CPUExecutionProvider"]``;
            a warning says so when one cannot be used and the lifter falls back.
        threads: CPU threads for onnxruntime / torch (None: the runtime's default).
        cache_dir: TensorRT plan cache folder (None: ``$SEMGCN_TRT_CACHE`` or ``<repo>/.trt_cache``).
        device: torch device for the torch backend (None: CUDA when available, else CPU).
    Raises:
        ValueError: unknown backend, or a model file of the wrong kind.
        FileNotFoundError: the weights file does not exist.
        engines.trt_engine.TensorRTUnavailable: backend "tensorrt" without TensorRT.
    """

    def __init__(self, backend: str = "onnxruntime", model_path=None, providers=None, *,
                 threads: int | None = None, cache_dir=None, device: str | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown lifter backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        path = Path(model_path) if model_path is not None else _default_model(backend)
        if not path.is_file():
            raise FileNotFoundError(f"lifter model not found: {path}")
        suffixes = (".pt", ".pth") if backend == "torch" else (".onnx",)
        if path.suffix.lower() not in suffixes:
            raise ValueError(f"backend {backend!r} needs a {suffixes[0]} file, got {path}")
        self._backend = _make_backend(backend, path, providers, threads, cache_dir, device)
        details = self._backend.describe()
        meta = details.get("metadata", {})
        self.info = LifterInfo(backend=backend, model_path=str(path), model_sha256=file_sha256(path),
                               model_name=str(meta.get("semgcn.model", "")), details=details)

    @property
    def backend(self) -> str:
        """The backend name."""
        return self.info.backend

    def predict(self, keypoints_2d, image_size, focal=None, center=None, lost=None) -> np.ndarray:
        """Lift pixel keypoints to root-relative 3D poses.

        Args:
            keypoints_2d: ``(16, 2)`` or ``(N, 16, 2)`` pixel coordinates (origin top-left, x right,
                y down) in ``semgcn.skeleton.JOINT_NAMES`` order.
            image_size: ``(w, h)`` in pixels, or ``(N, 2)``.
            focal: focal length in pixels, a scalar or ``(N,)``; None assumes a typical webcam
                field of view (``semgcn.codec.DEFAULT_HFOV_DEG``).
            center: principal point in pixels, ``(2,)`` or ``(N, 2)``; None for the image centre.
            lost: optional ``(16,)`` or ``(N, 16)`` bool, True for joints the detector lost (their
                keypoints may be NaN): each takes its nearest kept ancestor's position, the convention
                the model was trained with. Only limbs and the head (``semgcn.codec.FILLABLE_JOINTS``).
        Returns:
            ``(16, 3)`` for one pose or ``(N, 16, 3)`` for a batch: float32 metres, camera frame,
            pelvis at the origin.
        Raises:
            ValueError: wrong shapes, NaN / inf in joints not marked lost, a lost torso joint,
                non-positive sizes or focal lengths, or a pose whose keypoints all coincide.
        """
        single = np.ndim(keypoints_2d) == 2
        if lost is not None:
            keypoints_2d = fill_lost_limbs(keypoints_2d, lost)
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
        y = np.asarray(self._backend.run(x), dtype=np.float32)
        if y.shape != (n, NUM_JOINTS, 3) or not np.all(np.isfinite(y)):
            raise RuntimeError(f"the {self.backend} backend returned {y.shape} with non-finite values; "
                               f"the model file {self.info.model_path} may be corrupt")
        y = y - y[:, ROOT : ROOT + 1, :]
        return y[0] if single else y

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
