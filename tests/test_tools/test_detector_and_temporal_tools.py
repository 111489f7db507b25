"""tools.fit_detector_errors and tools.temporal_check, for real on a few rendered frames of the shared mocap."""
from __future__ import annotations

import json

import pytest

from semgcn.datasets.detector_errors import DetectorErrorModel


@pytest.fixture(scope="module")
def mocap(shared_dir):
    root = shared_dir / "mocap"
    folders = [root / "cmu_walk" / "08", root / "cmu_walk" / "13", root / "hdm05" / "mm"]
    for folder in folders:
        if not folder.is_dir():
            pytest.skip(f"{folder} absent")
    return folders


def test_fit_detector_errors_measures_blazepose_on_training_people(mocap, tmp_path, capsys):
    from tools.fit_detector_errors import main

    out = tmp_path / "errors.json"
    assert main(["--mocap", *map(str, mocap), "--chunks", "2", "--frames", "8", "--out", str(out),
                 "--cache", str(tmp_path / "cache.npz"), "--no-progress"]) == 0
    model = DetectorErrorModel.load(out)
    assert model.frames == 16 and "cmu:013" in model.source          # held-out people named, not used
    assert len(model.hip_width) == 3 and all(0.3 < w < 2.0 for w in model.hip_width if w != 1.0)
    assert "hip width" in capsys.readouterr().out


def test_temporal_check_reports_every_stage(mocap, tmp_path, capsys):
    from tools.temporal_check import main

    report = tmp_path / "temporal.md"
    assert main(["--mocap", *map(str, mocap), "--chunks", "1", "--frames", "30", "--demo-frames", "0",
                 "--cache", str(tmp_path / "renders"), "--report", str(report), "--no-progress"]) == 0
    text = report.read_text()
    assert "### HDM05" in text and "| temporal | 30 |" in text and "exact 2D instead" in text
    sets = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for stages in sets.values():
        assert set(stages) >= {"none", "One Euro", "temporal"}
        assert stages["temporal"]["bone_cv_pct"] < stages["none"]["bone_cv_pct"]   # the bone-length prior
