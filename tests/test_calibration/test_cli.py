"""The command line's bad-input behaviour: one clear line on stderr and a non-zero exit status."""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from calibration.boards import BoardSpec
from tests.test_calibration.synthetic import board_poses, render_view

CHESS = BoardSpec.parse("9x6", 0.025)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calibration", *args], capture_output=True, text=True, timeout=120)


def _assert_one_line_error(proc: subprocess.CompletedProcess, message: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:") or ": error: " in line]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().splitlines()[-1] == errors[0]


@pytest.fixture(scope="module")
def few_views(tmp_path_factory):
    folder = tmp_path_factory.mktemp("few")
    for i, (rvec, tvec) in enumerate(board_poses(CHESS, 3, seed=5)):
        cv2.imwrite(str(folder / f"v{i}.png"), render_view(CHESS, rvec, tvec, seed=i))
    return folder


def test_too_few_views(few_views, tmp_path):
    proc = _run("intrinsics", "--images", str(few_views), "--board", "9x6", "--square", "0.025",
                "--out", str(tmp_path / "c.json"), "--quiet")
    _assert_one_line_error(proc, "only 3 usable board views, need at least 8")
    assert not (tmp_path / "c.json").exists()


def test_board_not_found(tmp_path):
    folder = tmp_path / "blank"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"b{i}.jpg"), np.full((480, 640, 3), 120 + 10 * i, np.uint8))
    (folder / "broken.png").write_bytes(b"\x89PNG truncated")
    proc = _run("intrinsics", "--images", str(folder), "--board", "9x6", "--square", "0.025",
                "--out", str(tmp_path / "c.json"), "--quiet")
    _assert_one_line_error(proc, "chessboard 9x6 (inner corners) not found in any of 4 views")


def test_wrong_board_size_is_also_not_found(few_views, tmp_path):
    proc = _run("intrinsics", "--images", str(few_views), "--board", "8x6", "--square", "0.025",
                "--out", str(tmp_path / "c.json"), "--quiet")
    _assert_one_line_error(proc, "not found in any of 3 views; check --board")


@pytest.mark.parametrize("args, message", [
    (("intrinsics", "--images", "/nonexistent/dir", "--board", "9x6", "--square", "0.025", "--out", "x.json"),
     "image folder /nonexistent/dir does not exist"),
    (("intrinsics", "--images", ".", "--board", "9by6", "--square", "0.025", "--out", "x.json"),
     "board size must look like COLSxROWS"),
    (("intrinsics", "--images", ".", "--board", "9x6", "--square", "-1", "--out", "x.json"),
     "argument --square: must be between 0.001 and 1"),
    (("intrinsics", "--camera", "9", "--board", "9x6", "--square", "0.025", "--out", "x.json", "--no-display"),
     "camera 9 could not be opened"),
    (("show", "/nonexistent/cam.json"), "does not exist"),
])
def test_bad_arguments(args, message):
    _assert_one_line_error(_run(*args), message)


def test_corrupted_video_and_calibration_files(tmp_path):
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    _assert_one_line_error(_run("intrinsics", "--video", str(video), "--board", "9x6", "--square", "0.025",
                                "--out", str(tmp_path / "c.json")), "could not be opened (unsupported or corrupted file)")
    corrupted = tmp_path / "cam.json"
    corrupted.write_text('{"format": "semgcn.camera/1", "camera_matrix": [[8')
    _assert_one_line_error(_run("show", str(corrupted)), "is not readable JSON")
    wrong = tmp_path / "other.json"
    wrong.write_text('{"fx": 800, "fy": 800}')
    _assert_one_line_error(_run("show", str(wrong)), "format is ''")


def test_board_image_and_show(tmp_path):
    out = tmp_path / "board.png"
    proc = _run("board", "--board", "7x5", "--board-type", "charuco", "--square", "0.03", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    image = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    corners, ids, _, _ = cv2.aruco.CharucoDetector(BoardSpec.parse("7x5", 0.03, "charuco").charuco_board()).detectBoard(image)
    assert ids is not None and len(ids) == 24  # the printed board is detectable, all 6 x 4 corners
