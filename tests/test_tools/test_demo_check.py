"""tools.demo_check on a few demo frames: it renders, detects, compares, lifts and writes a PNG."""
from __future__ import annotations

import re

import cv2
import pytest

from tools import demo_check


def test_demo_check_prints_detection_error_and_lifting(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    png = tmp_path / "frame.png"
    rc = demo_check.main(["--seconds", "0.2", "--bench", "2", "--detectors", "onnxruntime",
                          "--lift", "onnxruntime", "--save-frame", str(png), "--frame-index", "5"])
    out = capsys.readouterr().out
    assert rc == 0
    assert cv2.imread(str(png)).shape == (480, 640, 3)
    assert re.search(r"render 640x480, 2 frames: wall median [\d.]+ ms", out)
    found = re.search(r"all frames\s+found\s+(\d+)/\s*(\d+)", out)
    assert found and found.group(1) == found.group(2) == "6", out
    median = float(re.search(r"all frames.*median\s+([\d.]+) px", out).group(1))
    assert median < 12.0
    mpjpe = float(re.search(r"true 2D\s+frames\s+6\s+MPJPE\s+([\d.]+) mm", out).group(1))
    assert 0.0 < mpjpe < 200.0


def test_demo_check_reports_an_unknown_detector(capsys):
    rc = demo_check.main(["--seconds", "0.1", "--bench", "0", "--detectors", "no-such-backend"])
    captured = capsys.readouterr()
    assert rc == 1
    assert "no-such-backend: not available here" in captured.out
    assert "no detector available" in captured.err
