"""The camera calibration file (JSON, format ``semgcn.camera/1``; see docs/calibration.md).

Written by ``python -m calibration intrinsics`` and read by ``run_live.py --calibration FILE``.
Required keys: ``format``, ``camera_matrix`` (3x3), ``dist_coeffs`` (OpenCV order k1 k2 p1 p2 [k3 ...]),
``image_size`` ``[w, h]``, ``rms_px``. Optional: ``board``, ``n_views``, ``date``, ``floor`` (a floor
plane in the camera frame, from a board laid on the floor).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "semgcn.camera/1"
FORMAT_NAME, FORMAT_MAJOR = FORMAT.split("/")
_ALLOWED_DIST_LENGTHS = (4, 5, 8, 12, 14)
#: What a real camera can be. Beyond these a file is damaged or hand-edited, and would silently give
#: absurd positions (a focal length of 1e300 puts people kilometres away): refused at start.
IMAGE_SIDE_PX = (16, 16384)
FOCAL_PER_WIDTH = (0.05, 50.0)      # horizontal field of view from about 180 to 1 degrees
ASPECT_OF_PIXELS = (0.5, 2.0)       # fy / fx
PRINCIPAL_POINT_MARGIN = 0.25       # the principal point within a quarter of the image outside it
MAX_DISTORTION_COEFF = 100.0
MAX_RADIAL_DISTORTION = 0.5         # at the image corners the lens moves points by at most half their radius
RMS_PX = (0.0, 50.0)
MAX_VIEWS = 100_000
CAMERA_HEIGHT_M = (0.05, 50.0)      # the floor plane's offset: the camera's height above the floor


@dataclass
class FloorPlane:
    """A floor plane in the camera frame: points ``p`` with ``normal . p + offset_m == 0``.

    Attributes:
        normal: (3,) unit normal pointing up (from the floor towards the camera side).
        offset_m: signed offset in metres (the camera, at the origin, is ``offset_m`` above the floor).
        source: how it was found ("board", "foot_contacts", "body_up").
    """

    normal: np.ndarray
    offset_m: float
    source: str = "board"

    def to_json(self) -> dict[str, Any]:
        return {"normal": [float(v) for v in self.normal], "offset_m": float(self.offset_m), "source": self.source}


@dataclass
class CameraFile:
    """The contents of a calibration file.

    Attributes:
        camera_matrix: (3, 3) float64 intrinsic matrix K in pixels.
        dist_coeffs: (N,) float64 OpenCV distortion coefficients (N in 4, 5, 8, 12, 14).
        image_size: ``(w, h)`` the calibration images had.
        rms_px: RMS reprojection error of the calibration in pixels.
        board: description of the board used (type, cols, rows, square_m, ...).
        n_views: number of board views used.
        date: ISO 8601 UTC time of the calibration.
        floor: optional floor plane in the camera frame.
    """

    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    image_size: tuple[int, int]
    rms_px: float
    board: dict[str, Any] = field(default_factory=dict)
    n_views: int = 0
    date: str = ""
    floor: FloorPlane | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "format": FORMAT,
            "camera_matrix": np.asarray(self.camera_matrix, dtype=float).tolist(),
            "dist_coeffs": np.asarray(self.dist_coeffs, dtype=float).ravel().tolist(),
            "image_size": [int(self.image_size[0]), int(self.image_size[1])],
            "rms_px": float(self.rms_px),
            "board": self.board,
            "n_views": int(self.n_views),
            "date": self.date or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        if self.floor is not None:
            data["floor"] = self.floor.to_json()
        return data


def save(camera: CameraFile, path) -> Path:
    """Write ``camera`` to ``path`` as JSON (creating parent folders); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(camera.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


def load(path) -> CameraFile:
    """Read and validate a calibration file.

    Args:
        path: the JSON file.
    Raises:
        ValueError: one line saying what is wrong (missing, unreadable, not JSON, wrong format,
            missing or malformed key, non-finite or implausible numbers).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"calibration file {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"calibration file {path} is not readable JSON: {exc}") from None
    try:
        return from_json(data)
    except ValueError as exc:
        raise ValueError(f"calibration file {path}: {exc}") from None


def from_json(data: Any) -> CameraFile:
    """Validate a decoded JSON object and build a ``CameraFile`` (ValueError with the reason)."""
    if not isinstance(data, dict):
        raise ValueError("top level is not a JSON object")
    fmt = str(data.get("format", ""))
    name, _, major = fmt.partition("/")
    if name != FORMAT_NAME:
        raise ValueError(f"format is {fmt!r}, expected {FORMAT!r}")
    if major != FORMAT_MAJOR:
        raise ValueError(f"format {fmt!r} has another major version than this reader ({FORMAT})")
    for key in ("camera_matrix", "dist_coeffs", "image_size", "rms_px"):
        if key not in data:
            raise ValueError(f"missing key {key!r}")
    size = _array(data["image_size"], "image_size").ravel()
    if size.shape != (2,) or np.any(size != np.round(size)) or \
            np.any(size < IMAGE_SIDE_PX[0]) or np.any(size > IMAGE_SIDE_PX[1]):
        raise ValueError(f"image_size must be [w, h], integers from {IMAGE_SIDE_PX[0]} to {IMAGE_SIDE_PX[1]}, "
                         f"got {data['image_size']!r}")
    w, h = int(size[0]), int(size[1])
    K = _camera_matrix(data["camera_matrix"], w, h)
    dist = _distortion(data["dist_coeffs"], K, w, h)
    rms = _number(data["rms_px"], "rms_px", *RMS_PX)
    n_views = _number(data.get("n_views", 0), "n_views", 0, MAX_VIEWS)
    if n_views != int(n_views):
        raise ValueError(f"n_views must be a whole number, got {data.get('n_views')!r}")
    for key, kind in (("board", dict), ("date", str)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise ValueError(f"{key} must be a JSON {'object' if kind is dict else 'string'}, got {str(data[key])[:40]!r}")
    floor = None
    if data.get("floor") is not None:
        floor = _floor_from_json(data["floor"])
    return CameraFile(
        camera_matrix=K,
        dist_coeffs=dist if dist.size else np.zeros(5),
        image_size=(w, h),
        rms_px=rms,
        board=dict(data.get("board") or {}),
        n_views=int(n_views),
        date=str(data.get("date") or ""),
        floor=floor,
    )


def _camera_matrix(value: Any, w: int, h: int) -> np.ndarray:
    K = _array(value, "camera_matrix")
    if K.shape != (3, 3):
        raise ValueError(f"camera_matrix must be 3x3, got shape {K.shape}")
    if K[0, 0] <= 0 or K[1, 1] <= 0 or not np.allclose(K[2], [0, 0, 1]) or K[1, 0] != 0:
        raise ValueError("camera_matrix is not an intrinsic matrix [[fx,s,cx],[0,fy,cy],[0,0,1]] with fx, fy > 0")
    fx, fy, skew, cx, cy = K[0, 0], K[1, 1], K[0, 1], K[0, 2], K[1, 2]
    low, high = FOCAL_PER_WIDTH
    if not low * w <= fx <= high * w:
        raise ValueError(f"camera_matrix fx = {fx:g} px is not a focal length for {w} px wide images "
                         f"({low:g} to {high:g} times the width)")
    if not ASPECT_OF_PIXELS[0] <= fy / fx <= ASPECT_OF_PIXELS[1]:
        raise ValueError(f"camera_matrix fy / fx = {fy / fx:.3g} is not a pixel aspect ratio "
                         f"({ASPECT_OF_PIXELS[0]:g} to {ASPECT_OF_PIXELS[1]:g})")
    if abs(skew) > 0.1 * fx:
        raise ValueError(f"camera_matrix skew {skew:g} is implausible (more than 0.1 fx)")
    m = PRINCIPAL_POINT_MARGIN
    if not (-m * w <= cx <= (1 + m) * w and -m * h <= cy <= (1 + m) * h):
        raise ValueError(f"the principal point ({cx:g}, {cy:g}) is far outside the {w}x{h} image")
    return K


def _distortion(value: Any, K: np.ndarray, w: int, h: int) -> np.ndarray:
    dist = _array(value, "dist_coeffs").ravel()
    if dist.size not in _ALLOWED_DIST_LENGTHS and dist.size != 0:
        raise ValueError(f"dist_coeffs must have 0, 4, 5, 8, 12 or 14 values, got {dist.size}")
    if np.any(np.abs(dist) > MAX_DISTORTION_COEFF):
        raise ValueError(f"dist_coeffs hold a coefficient beyond +-{MAX_DISTORTION_COEFF:g}: not a lens")
    if dist.size:
        _check_radial_distortion(dist, K, w, h)
    return dist


def _check_radial_distortion(dist: np.ndarray, K: np.ndarray, w: int, h: int) -> None:
    """The radial part of the model must not fold the image onto itself (it must grow with the radius)
    nor move the image corners by more than ``MAX_RADIAL_DISTORTION`` of their radius."""
    k = np.zeros(8)
    k[:min(dist.size, 8)] = dist[:8]
    k1, k2, _, _, k3, k4, k5, k6 = k
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64)
    normalised = (corners - K[:2, 2]) / np.diag(K)[:2]
    r = np.linspace(0.0, np.linalg.norm(normalised, axis=1).max(), 200)
    r2 = r * r
    factor = (1 + k1 * r2 + k2 * r2**2 + k3 * r2**3) / (1 + k4 * r2 + k5 * r2**2 + k6 * r2**3)
    distorted = r * factor
    if np.any(np.diff(distorted) <= 0) or np.any(np.abs(factor - 1) > MAX_RADIAL_DISTORTION):
        raise ValueError("dist_coeffs fold or stretch the image beyond what a lens does (radial distortion "
                         f"over {100 * MAX_RADIAL_DISTORTION:g} % of the radius inside the image, or not growing with it)")


def _floor_from_json(data: Any) -> FloorPlane:
    if not isinstance(data, dict) or "normal" not in data or "offset_m" not in data:
        raise ValueError("floor must be an object with 'normal' [3] and 'offset_m'")
    normal = _array(data["normal"], "floor.normal").ravel()
    if normal.shape != (3,) or not 0.9 < np.linalg.norm(normal) < 1.1:
        raise ValueError("floor.normal must be a unit 3-vector")
    return FloorPlane(normal / np.linalg.norm(normal), _number(data["offset_m"], "floor.offset_m", *CAMERA_HEIGHT_M),
                      str(data.get("source", "board")))


def _array(value: Any, key: str) -> np.ndarray:
    try:
        if not _only_numbers(value):
            raise TypeError
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{key} is not an array of numbers: {str(value)[:60]!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{key} contains NaN or inf")
    return arr


def _only_numbers(value: Any) -> bool:
    """JSON numbers, or (nested) lists of them: no strings, booleans or nulls standing in for numbers."""
    if isinstance(value, list):
        return all(_only_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, key: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {str(value)[:40]!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} = {value:g} is outside {low:g} to {high:g}")
    return float(value)
