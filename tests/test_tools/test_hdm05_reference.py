"""tools.hdm05_reference: one fold run for real on a few clips (two HDM05 actors), and its bad input."""
from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def clips(shared_dir):
    mocap = shared_dir / "mocap"
    paths = [mocap / "cmu/All_BVH/subjects/007/007_01.bvh", mocap / "cmu/All_BVH/subjects/006/006_14.bvh",
             mocap / "reactidle/genuine/003_genuine.bvh",
             mocap / "hdm05/bk/HDM_bk_hopBothLegs1hops_020_120.amc",
             mocap / "hdm05/bd/HDM_bd_hopBothLegs1hops_005_120.amc"]
    for p in paths:
        if not p.exists():
            pytest.skip(f"{p} absent")
    return paths


def test_a_fold_fine_tunes_on_the_other_actor_and_measures_the_held_out_one(clips, tmp_path, capsys):
    from tools.hdm05_reference import main

    out, page = tmp_path / "ref", tmp_path / "page.md"
    args = ["--hold-out", "bk", "--epochs", "1", "--steps-per-epoch", "3", "--mocap", *map(str, clips),
            "--cache-dir", str(tmp_path / "cache"), "--out", str(out), "--no-progress", "--doc", str(page)]
    assert main(args) == 0
    fold = json.loads((out / "reference.json").read_text())[0]
    assert fold["actor"] == "hdm05:bk" and fold["train_people"] == ["hdm05:bd"]  # never the measured actor
    assert fold["test_poses"] > 0 and fold["train_poses"] > 0
    for model in ("shipped", "fine_tuned_on_hdm05"):
        assert 0 < fold[model]["pmpjpe_mm"] <= fold[model]["mpjpe_mm"] * 1.5
    # three optimiser steps move the weights: the two models do not give the same figures
    assert fold["shipped"]["pmpjpe_mm"] != fold["fine_tuned_on_hdm05"]["pmpjpe_mm"]
    assert (out / "without_bk" / "last.pt").is_file()
    assert "hdm05:bk" in capsys.readouterr().out
    text = page.read_text()
    assert "| hdm05:bk | " in text and "| all measured |" in text and "python -m tools.hdm05_reference" in text
    assert f"{fold['fine_tuned_on_hdm05']['pmpjpe_mm']:.1f}" in text
    # a finished fold is measured again, not retrained: same weights, same figures
    stamp = (out / "without_bk" / "last.pt").stat().st_mtime_ns
    assert main(args) == 0
    assert (out / "without_bk" / "last.pt").stat().st_mtime_ns == stamp
    assert json.loads((out / "reference.json").read_text())[0] == fold


def test_an_actor_without_others_to_train_on_is_one_clear_error(clips, tmp_path, capsys):
    from tools.hdm05_reference import main

    only_bk = [c for c in clips if "/bd/" not in str(c)]
    assert main(["--hold-out", "bk", "--mocap", *map(str, only_bk), "--cache-dir", str(tmp_path / "cache"),
                 "--out", str(tmp_path / "ref"), "--no-progress"]) == 2
    assert "at least one other HDM05 actor" in capsys.readouterr().err
    assert main(["--hold-out", "bk", "--init", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "r")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
