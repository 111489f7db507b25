"""CalibrationStage: construction from a file or defaults, undistortion, headers, the wire round trip."""
from __future__ import annotations

import json

import numpy as np
import pytest

from calibration import camera_file
from calibration.stage import CalibrationOptions, CalibrationStage
from realtime.stream.wire import decode, encode
from realtime.core.records import FrameResult
from tests.frames import frame_with
from semgcn.codec import default_intrinsics
from tests.test_calibration.synthetic import DIST_TRUE, K_TRUE, SIZE, project, realistic_pose


@pytest.fixture
def cam_path(tmp_path):
    return camera_file.save(camera_file.CameraFile(K_TRUE, DIST_TRUE, SIZE, 0.21, {"type": "chessboard"}, 14),
                            tmp_path / "cam.json")


def _frame(pose, T, stage_size=SIZE, **kw) -> FrameResult:
    return frame_with(1, 0.0, image_size=stage_size, keypoints_2d=project(pose + T).astype(np.float32),
                 confidence=np.ones(16, np.float32), joints_3d=pose.astype(np.float32), **kw)


def test_uncalibrated_uses_the_codec_default_and_says_so():
    stage = CalibrationStage.uncalibrated((640, 480))
    focal, center = default_intrinsics((640, 480))
    assert not stage.calibrated and stage.focal == pytest.approx(focal) and np.allclose(stage.center, center)
    kp = np.random.default_rng(0).uniform(0, 600, (16, 2))
    assert np.array_equal(stage.undistort(kp), kp)  # no distortion: identity
    frame = frame_with(0, 0.0, image_size=(640, 480))
    stage.annotate(frame)  # nobody in view: only the camera header
    assert frame.camera["calibrated"] is False and "root_translation" not in frame.arrays


def test_undistort_gives_the_ideal_pinhole_projection(cam_path):
    stage = CalibrationStage.from_file(cam_path, SIZE)
    points = realistic_pose(2) + [0.8, 0.3, 2.2]
    distorted = project(points)
    ideal = project(points, K=stage.ideal_matrix, dist=np.zeros(5))
    assert np.abs(distorted - ideal).max() > 5.0  # the lens really bends them
    assert np.abs(stage.undistort(distorted) - ideal).max() < 0.05
    with_nan = distorted.copy()
    with_nan[4] = np.nan
    out = stage.undistort(with_nan)
    assert np.all(np.isnan(out[4])) and np.isfinite(np.delete(out, 4, axis=0)).all()


def test_file_for_another_resolution_is_rescaled_or_refused(cam_path):
    half = CalibrationStage.from_file(cam_path, (480, 360))
    assert half.focal == pytest.approx((K_TRUE[0, 0] + K_TRUE[1, 1]) / 4)
    assert half.camera_header()["rescaled_from"] == [960, 720]
    with pytest.raises(ValueError, match="is for 960x720 images but the frames are 640x360"):
        CalibrationStage.from_file(cam_path, (640, 360))


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ('{"format": "semgcn.camera/1", "camera_matrix": [[800, 0,', "not readable JSON"),
    ('[1, 2, 3]', "not a JSON object"),
    ('{"camera_matrix": [[1,0,0],[0,1,0],[0,0,1]]}', "format is ''"),
    ('{"format": "semgcn.camera/2"}', "another major version"),
    ('{"format": "semgcn.camera/1", "camera_matrix": [[800,0,480],[0,800,360],[0,0,1]], "dist_coeffs": [0,0,0,0,0], '
     '"image_size": [960, 720]}', "missing key 'rms_px'"),
    ('{"format": "semgcn.camera/1", "camera_matrix": [[800,0,480],[0,800,360]], "dist_coeffs": [], '
     '"image_size": [960, 720], "rms_px": 0.3}', "must be 3x3"),
    ('{"format": "semgcn.camera/1", "camera_matrix": [[800,0,480],[0,800,360],[0,0,1]], "dist_coeffs": [0.1, 0.2, 0.3], '
     '"image_size": [960, 720], "rms_px": 0.3}', "dist_coeffs must have"),
    ('{"format": "semgcn.camera/1", "camera_matrix": [[800,0,480],[0,800,360],[0,0,1]], "dist_coeffs": [0,0,0,0,0], '
     '"image_size": [960, 720], "rms_px": NaN}', "rms_px must be a finite number"),
    ('{"format": "semgcn.camera/1", "camera_matrix": [["a",0,480],[0,800,360],[0,0,1]], "dist_coeffs": [0,0,0,0,0], '
     '"image_size": [960, 720], "rms_px": 0.3}', "camera_matrix is not an array of numbers"),
])
def test_bad_files_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "cam.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        CalibrationStage.from_file(path, SIZE)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_file_round_trip_and_version_field(cam_path):
    data = json.loads(cam_path.read_text())
    assert data["format"] == "semgcn.camera/1" and data["n_views"] == 14 and data["date"]
    back = camera_file.load(cam_path)
    assert np.allclose(back.camera_matrix, K_TRUE) and np.allclose(back.dist_coeffs, DIST_TRUE)


def test_annotated_frame_survives_the_wire(cam_path):
    stage = CalibrationStage.from_file(cam_path, SIZE, CalibrationOptions(subject_height_m=1.80, up_axis="z"))
    pose, T = realistic_pose(4) * 0.9, np.array([0.2, 0.3, 3.0])  # the lifter's body is 10 % too small
    frame = _frame(pose, T)
    stage.annotate(frame)
    back = decode(encode(frame))
    assert back.header["camera"]["calibrated"] is True and back.header["camera"]["fx"] == pytest.approx(820.0)
    assert back.header["scale"]["method"] == "height" and back.header["scale"]["factor"] > 1.0
    assert back.header["world_frame"]["up"] == "z" and back.header["world_frame"]["name"] is None  # still estimating
    assert back.arrays["root_translation"].shape == (3,)
    # scaled pose + fitted translation still reproject onto the keypoints
    reproj = project(back.joints_3d.astype(np.float64) + back.arrays["root_translation"])
    assert np.abs(reproj - frame.keypoints_2d).max() < 0.5


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="scale_mode 'height' needs subject_height_m"):
        CalibrationStage.uncalibrated(SIZE, options=CalibrationOptions(scale_mode="height"))
    with pytest.raises(ValueError, match="needs a floor plane"):
        CalibrationStage.uncalibrated(SIZE, options=CalibrationOptions(world="board"))
    with pytest.raises(ValueError, match="world must be one of"):
        CalibrationStage.uncalibrated(SIZE, options=CalibrationOptions(world="moon"))
