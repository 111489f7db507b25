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
    K = _array(data["camera_matrix"], "camera_matrix")
    if K.shape != (3, 3):
        raise ValueError(f"camera_matrix must be 3x3, got shape {K.shape}")
    if K[0, 0] <= 0 or K[1, 1] <= 0 or not np.allclose(K[2], [0, 0, 1]) or K[1, 0] != 0:
        raise ValueError("camera_matrix is not an intrinsic matrix [[fx,s,cx],[0,fy,cy],[0,0,1]] with fx, fy > 0")
    dist = _array(data["dist_coeffs"], "dist_coeffs").ravel()
    if dist.size not in _ALLOWED_DIST_LENGTHS and dist.size != 0:
        raise ValueError(f"dist_coeffs must have 0, 4, 5, 8, 12 or 14 values, got {dist.size}")
    size = _array(data["image_size"], "image_size").ravel()
    if size.shape != (2,) or np.any(size < 1) or np.any(size != np.round(size)):
        raise ValueError(f"image_size must be [w, h] positive integers, got {data['image_size']!r}")
    rms = _number(data["rms_px"], "rms_px")
    floor = None
    if data.get("floor") is not None:
        floor = _floor_from_json(data["floor"])
    return CameraFile(
        camera_matrix=K,
        dist_coeffs=dist if dist.size else np.zeros(5),
        image_size=(int(size[0]), int(size[1])),
        rms_px=rms,
        board=dict(data.get("board") or {}),
        n_views=int(_number(data.get("n_views", 0), "n_views")),
        date=str(data.get("date", "")),
        floor=floor,
    )


def _floor_from_json(data: Any) -> FloorPlane:
    if not isinstance(data, dict) or "normal" not in data or "offset_m" not in data:
        raise ValueError("floor must be an object with 'normal' [3] and 'offset_m'")
    normal = _array(data["normal"], "floor.normal").ravel()
    if normal.shape != (3,) or not 0.9 < np.linalg.norm(normal) < 1.1:
        raise ValueError("floor.normal must be a unit 3-vector")
    return FloorPlane(normal / np.linalg.norm(normal), _number(data["offset_m"], "floor.offset_m"),
                      str(data.get("source", "board")))


def _array(value: Any, key: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{key} is not an array of numbers: {str(value)[:60]!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{key} contains NaN or inf")
    return arr


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    return float(value)
