"""Every field of a calibration file at and beyond its bounds: a plausible camera loads, an implausible
one (damaged or hand-edited) is refused at start with one line naming the field."""
from __future__ import annotations

import copy
import json

import pytest

from calibration import camera_file as cf

W, H = 1280, 720
GOOD = {"format": "semgcn.camera/1", "camera_matrix": [[900.0, 0.0, 640.0], [0.0, 900.0, 360.0], [0.0, 0.0, 1.0]],
        "dist_coeffs": [-0.1, 0.05, 0.0, 0.0, 0.0], "image_size": [W, H], "rms_px": 0.3, "n_views": 20,
        "board": {"type": "chessboard"}, "date": "2026-12-01T00:00:00+00:00",
        "floor": {"normal": [0.0, -1.0, 0.0], "offset_m": 1.5, "source": "board"}}


def _with(path: str, value) -> dict:
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return data


def _load(tmp_path, data):
    path = tmp_path / "cam.json"
    path.write_text(json.dumps(data))
    return cf.load(path)


def test_the_good_file_loads(tmp_path):
    cam = _load(tmp_path, GOOD)
    assert cam.image_size == (W, H) and cam.floor.offset_m == 1.5


@pytest.mark.parametrize("path, value", [
    ("image_size", [16, 16]), ("image_size", [16384, 16384]),
    ("focal", 0.05 * W), ("focal", 50.0 * W),
    ("camera_matrix.1.1", 450.0), ("camera_matrix.1.1", 1800.0),            # fy / fx at 0.5 and 2
    ("camera_matrix.0.2", -0.25 * W), ("camera_matrix.1.2", 1.25 * H),      # principal point at the margin
    ("camera_matrix.0.1", 90.0),                                             # skew 0.1 fx
    ("dist_coeffs", []), ("dist_coeffs", [0.2, 0.0, 0.0, 0.0]),
    ("rms_px", 0.0), ("rms_px", 50.0), ("n_views", 0), ("n_views", 100_000),
    ("floor.offset_m", 0.05), ("floor.offset_m", 50.0), ("board", None), ("date", None),
])
def test_a_field_at_its_bounds_is_accepted(tmp_path, path, value):
    if path == "focal":  # fx and fy together: the pixel aspect stays 1
        data = _with("camera_matrix", [[value, 0.0, 640.0], [0.0, value, 360.0], [0.0, 0.0, 1.0]])
        data["dist_coeffs"] = []  # a 170-degree lens with this webcam's distortion would fold the image
    else:
        data = _with(path, value)
    if path.startswith("image_size"):  # keep the camera plausible for that image size
        data["camera_matrix"] = [[value[0], 0.0, value[0] / 2], [0.0, value[0], value[1] / 2], [0.0, 0.0, 1.0]]
    _load(tmp_path, data)


@pytest.mark.parametrize("path, value, words", [
    ("image_size", [15, 720], "image_size"), ("image_size", [16385, 720], "image_size"),
    ("image_size", [1e9, 1e9], "image_size"), ("image_size", [1280.5, 720], "image_size"),
    ("camera_matrix.0.0", 0.04 * W, "fx"), ("camera_matrix.0.0", 1e300, "fx"),
    ("camera_matrix.1.1", 440.0, "fy / fx"), ("camera_matrix.1.1", 1900.0, "fy / fx"),
    ("camera_matrix.0.2", -0.3 * W, "principal point"), ("camera_matrix.1.2", 1.3 * H, "principal point"),
    ("camera_matrix.0.1", 100.0, "skew"), ("camera_matrix.0.0", "900", "camera_matrix"),
    ("dist_coeffs", [1e6, 0, 0, 0, 0], "dist_coeffs"), ("dist_coeffs", [5.0, 0, 0, 0, 0], "dist_coeffs"),
    ("dist_coeffs", [-3.0, 0, 0, 0, 0], "dist_coeffs"), ("dist_coeffs", [0.1, 0.2, 0.3], "dist_coeffs"),
    ("dist_coeffs", "none", "dist_coeffs"),
    ("rms_px", -0.1, "rms_px"), ("rms_px", 51.0, "rms_px"), ("rms_px", "0.3", "rms_px"),
    ("n_views", -1, "n_views"), ("n_views", 100_001, "n_views"), ("n_views", 2.5, "n_views"),
    ("floor.offset_m", 0.01, "floor.offset_m"), ("floor.offset_m", 1e9, "floor.offset_m"),
    ("floor.normal", [0.0, -2.0, 0.0], "floor.normal"), ("floor", [1, 2], "floor"),
    ("board", 5, "board"), ("board", [1, 2], "board"), ("date", 5, "date"),
])
def test_a_field_beyond_its_bounds_or_of_the_wrong_type_is_refused_in_one_line(tmp_path, path, value, words):
    with pytest.raises(ValueError) as info:
        _load(tmp_path, _with(path, value))
    message = str(info.value)
    assert words in message and "\n" not in message and "cam.json" in message
