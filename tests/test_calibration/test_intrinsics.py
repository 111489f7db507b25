"""Intrinsics from synthetic board photos rendered with a known camera (tests/test_calibration/synthetic.py)."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from calibration import camera_file
from calibration.boards import BoardDetector, BoardSpec
from calibration.capture import from_images, from_video
from calibration.intrinsics import CalibrationError, Coverage, IntrinsicsOptions, calibrate
from tests.test_calibration.synthetic import DIST_TRUE, K_TRUE, SIZE, board_poses, render_view

CHESS = BoardSpec.parse("9x6", 0.025)
CHARUCO = BoardSpec.parse("7x5", 0.03, kind="charuco")


@pytest.fixture(scope="module")
def chess_dir(tmp_path_factory):
    """13 chessboard photos (960x720) on disk, as a user would have them."""
    folder = tmp_path_factory.mktemp("chess")
    for i, (rvec, tvec) in enumerate(board_poses(CHESS, 13, seed=0)):
        cv2.imwrite(str(folder / f"view{i:02d}.png"), render_view(CHESS, rvec, tvec, seed=i))
    return folder


@pytest.fixture(scope="module")
def chess_views(chess_dir):
    return from_images(chess_dir, BoardDetector(CHESS), progress=False)


def _check_camera(cam: camera_file.CameraFile) -> None:
    K = cam.camera_matrix
    assert abs(K[0, 0] / K_TRUE[0, 0] - 1) < 0.01, K
    assert abs(K[1, 1] / K_TRUE[1, 1] - 1) < 0.01, K
    assert np.allclose(K[:2, 2], K_TRUE[:2, 2], atol=5.0), K
    assert cam.rms_px < 0.5
    assert np.allclose(cam.dist_coeffs[:2], DIST_TRUE[:2], atol=0.02), cam.dist_coeffs
    # what matters in use: undistorting with the estimate agrees with the true camera where boards were seen
    grid = np.stack(np.meshgrid(np.linspace(100, SIZE[0] - 100, 9), np.linspace(80, SIZE[1] - 80, 7)), -1).reshape(-1, 1, 2)
    rays = [np.concatenate([cv2.undistortPoints(grid, k, d).reshape(-1, 2), np.ones((len(grid), 1))], axis=1)
            for k, d in ((K_TRUE, DIST_TRUE), (K, cam.dist_coeffs))]
    cos = np.sum(rays[0] * rays[1], axis=1) / np.linalg.norm(rays[0], axis=1) / np.linalg.norm(rays[1], axis=1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 0.25  # viewing directions agree


def test_chessboard_images_recover_the_camera(chess_views):
    got = chess_views
    assert len(got.detections) == 13 and got.image_size == SIZE
    assert got.coverage.enough, got.coverage.status()
    result = calibrate(got.detections, got.image_size, CHESS)
    _check_camera(result.camera)
    assert result.camera.n_views == 13 and result.camera.board["cols"] == 9


def test_charuco_recovers_the_camera_with_part_of_the_board_hidden():
    detector = BoardDetector(CHARUCO)
    detections = []
    for i, (rvec, tvec) in enumerate(board_poses(CHARUCO, 13, seed=3)):
        image = render_view(CHARUCO, rvec, tvec, seed=i)
        if i % 3 == 0:  # a hand over a third of the board: ChArUco still gives the visible corners
            box = cv2.boundingRect(np.argwhere(image < 60)[:, ::-1].astype(np.int32))
            image[box[1]:box[1] + box[3], box[0]:box[0] + box[2] // 3] = 110
        det = detector.detect(image)
        assert det is not None, f"view {i}"
        detections.append(det)
    assert min(len(d.image_points) for d in detections) < CHARUCO.n_corners  # partial views were used
    _check_camera(calibrate(detections, SIZE, CHARUCO).camera)


def test_cli_intrinsics_writes_a_file_that_the_stage_reads(chess_dir, tmp_path):
    out = tmp_path / "cam.json"
    proc = subprocess.run([sys.executable, "-m", "calibration", "intrinsics", "--images", str(chess_dir),
                           "--board", "9x6", "--square", "0.025", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "reprojection error" in proc.stdout
    data = json.loads(out.read_text())
    assert data["format"] == "semgcn.camera/1" and data["image_size"] == [960, 720] and data["n_views"] == 13
    assert np.shape(data["camera_matrix"]) == (3, 3) and len(data["dist_coeffs"]) == 5 and data["rms_px"] < 0.5
    _check_camera(camera_file.load(out))
    from calibration.stage import CalibrationStage
    stage = CalibrationStage.from_file(out, SIZE)
    assert stage.calibrated and abs(stage.focal / K_TRUE[0, 0] - 1) < 0.01


def test_video_keeps_distinct_views_only(chess_dir, tmp_path):
    path = tmp_path / "board.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, SIZE)
    assert writer.isOpened()
    frames = sorted(chess_dir.glob("*.png"))[:4]
    for f in frames:  # each view held still for 3 frames
        image = cv2.cvtColor(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
        for _ in range(3):
            writer.write(image)
    writer.release()
    got = from_video(path, BoardDetector(CHESS), every=1, progress=False)
    assert len(got.detections) == 4, got.names


def test_coverage_says_what_is_missing():
    detector = BoardDetector(CHESS)
    cov = Coverage(SIZE)
    rvec, tvec = board_poses(CHESS, 1, seed=0)[0]  # one view in the centre
    det = detector.detect(render_view(CHESS, rvec, tvec))
    cov.add(det)
    assert not cov.enough
    text = cov.status()
    assert "11 more views" in text and "top-left" in text
    assert not cov.is_new(det)  # the same view again is a duplicate


def test_too_few_views_is_a_clear_error(chess_views):
    got = chess_views
    with pytest.raises(CalibrationError, match="only 3 usable board views, need at least 8"):
        calibrate(got.detections[:3], SIZE, CHESS, IntrinsicsOptions(min_views=8))


def test_live_capture_loop_keeps_still_new_views_and_stops_when_enough(chess_dir, tmp_path):
    """The headless live loop, fed by a recorded stream instead of a webcam (none on this machine)."""
    from calibration.capture import from_camera

    path = tmp_path / "live.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, SIZE)
    for f in sorted(chess_dir.glob("*.png")):  # every view held for two frames, then moved on
        image = cv2.cvtColor(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
        writer.write(image)
        writer.write(image)
    writer.release()
    got = from_camera(str(path), BoardDetector(CHESS), display=False, max_seconds=120)
    assert got.coverage.enough and len(got.detections) == 12  # stopped as soon as coverage was enough
    _check_camera(calibrate(got.detections, got.image_size, CHESS).camera)
