"""The training, evaluation and ablation CLIs, run for real on a small slice of the shared mocap."""
from __future__ import annotations

import json

import numpy as np
import pytest

from semgcn.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def tiny_mocap(shared_dir):
    """Two short CMU clips (subjects 006 and 007), one ReActIdle clip and one HDM05 clip: four people."""
    cmu = shared_dir / "mocap" / "cmu" / "All_BVH" / "subjects"
    clips = [cmu / "007" / "007_01.bvh", cmu / "006" / "006_14.bvh",
             shared_dir / "mocap" / "reactidle" / "genuine" / "003_genuine.bvh",
             shared_dir / "mocap" / "hdm05/bk/HDM_bk_hopBothLegs1hops_020_120.amc"]
    for c in clips:
        if not c.exists():
            pytest.skip(f"{c} absent")
    return clips


def _common(tiny_mocap, tmp_path):
    return ["--mocap", *map(str, tiny_mocap), "--val-people", "cmu:007", "reactidle:003",
            "--max-train-poses", "120", "--max-val-poses", "60", "--cache-dir", str(tmp_path / "cache")]


def test_train_resume_evaluate(tiny_mocap, tmp_path, capsys):
    from tools.evaluate import main as evaluate
    from tools.train import main as train

    out = tmp_path / "run"
    args = ["--model", "semgcn", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "16",
            "--out", str(out), "--no-progress", *_common(tiny_mocap, tmp_path)]
    assert train(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["epochs"] == 1 and first["parameters"] > 400_000
    assert set(first["val"]) == {"exact", "noisy", "hdm05_exact", "hdm05_noisy"}  # HDM05: tested, never trained
    for name in ("last.pt", "history.json", "curves.png", "semgconv_weights.png"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "best.pt").exists()  # no epoch is picked by its held-out error
    # Resume: a second run with more epochs continues from epoch 1, not from scratch.
    args[args.index("--epochs") + 1] = "2"
    assert train(args + ["--resume"]) == 0
    _, ckpt = load_checkpoint(out / "last.pt")
    assert [h["epoch"] for h in ckpt["meta"]["history"]] == [1, 2]
    assert ckpt["meta"]["step"] == 4
    capsys.readouterr()

    # Write the held-out set the training used, then evaluate the checkpoint on it.
    from semgcn.datasets.lifting import DataOptions, prepare_mocap

    data = prepare_mocap(DataOptions(mocap=tiny_mocap, val_people=("cmu:007", "reactidle:003"),
                                     max_val_poses=60, cache_dir=tmp_path / "cache"), progress=False)
    val_file = data.val["exact"].save_npz(tmp_path / "val.npz")
    assert evaluate(["--data", str(val_file), "--model", str(out / "last.pt"), "--per-clip"]) == 0
    line = capsys.readouterr().out.strip().splitlines()
    assert len(line) == 1
    result = json.loads(line[0])
    assert result["n"] == 60 and {"mpjpe_mm", "pmpjpe_mm", "mpjpe_true_bones_mm", "bone_angle_deg"} <= set(result)
    assert 0 < result["pmpjpe_mm"] < 1000 and 0 < result["bone_angle_deg"] < 180
    assert set(result["per_clip"]) == set(np.unique(data.val["exact"].clip).tolist())
    # The CLI writes the same kind of file for the whole held-out set.
    assert evaluate(["--write-val", str(tmp_path / "cli_val.npz"), "--noisy", "--mocap", *map(str, tiny_mocap),
                     "--val-people", "cmu:007", "reactidle:003", "--cache-dir", str(tmp_path / "cache")]) == 0
    written = json.loads(capsys.readouterr().out.strip())
    assert written["noisy"] and written["n"] >= 60 and written["people"] == ["cmu:007", "reactidle:003"]
    assert evaluate(["--write-val", str(tmp_path / "cli_exact.npz"), "--mocap", *map(str, tiny_mocap),
                     "--val-people", "cmu:007", "reactidle:003", "--cache-dir", str(tmp_path / "cache")]) == 0
    capsys.readouterr()
    with np.load(tmp_path / "cli_val.npz") as z, np.load(tmp_path / "cli_exact.npz") as exact:
        assert z["keypoints_2d"].shape == (written["n"], 16, 2)
        moved = np.linalg.norm(z["keypoints_2d"] - exact["keypoints_2d"], axis=-1)
        assert np.median(moved) > 1.0      # BlazePose-like error model: every pose's 2D is off the truth
        np.testing.assert_array_equal(z["joints_3d"], exact["joints_3d"])  # same people, same cameras
    # The evaluation matches the training loop's own figure for the same weights and data.
    hist = json.loads((out / "history.json").read_text())
    assert abs(hist[-1]["val"]["exact"]["mpjpe_mm"] - result["mpjpe_mm"]) < 0.05


def test_evaluate_reports_bad_input(tmp_path, capsys):
    from tools.evaluate import main as evaluate

    (tmp_path / "junk.npz").write_bytes(b"nope")
    assert evaluate(["--data", str(tmp_path / "junk.npz")]) == 2
    assert "cannot read" in capsys.readouterr().err
    np.savez(tmp_path / "ok.npz", keypoints_2d=np.zeros((2, 16, 2)), joints_3d=np.zeros((2, 16, 3)),
             image_size=np.array([640, 480]))
    assert evaluate(["--data", str(tmp_path / "ok.npz"), "--model", str(tmp_path / "none.onnx")]) == 2
    assert "model file not found" in capsys.readouterr().err


def test_ablation_writes_the_table(tiny_mocap, tmp_path, capsys):
    from tools.ablation import main as ablation

    report = tmp_path / "ablation.md"
    assert ablation(["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "16", "--only", "resgcn", "fc",
                     "--mocap", *map(str, tiny_mocap), "--val-people", "cmu:007", "reactidle:003",
                     "--max-train-poses", "100", "--max-val-poses", "40", "--out", str(tmp_path / "abl"),
                     "--cache-dir", str(tmp_path / "cache"), "--report", str(report),
                     "--figure", str(tmp_path / "abl.png"), "--no-progress",
                     "--full-budget", str(tmp_path / "abl" / "fc__martinez_et_al")]) == 0
    text = report.read_text()
    assert "| ResGCN | 0.135M |" in text and "| FC (Martinez et al.) | 4.292M |" in text
    assert "| FC, ~1/10 parameters |" in text  # --only fc trains both FC sizes
    assert text.count("| HDM05") == 0 and text.count("\n### HDM05") == 1  # the second test set's table
    assert "python -m tools.ablation" in text and (tmp_path / "abl.png").stat().st_size > 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [x["model"] for x in lines][:3] == ["ResGCN", "FC (Martinez et al.)", "FC, ~1/10 parameters"]
    assert {"hdm05_exact", "exact"} <= set(lines[0]["flip"])
    assert "## At the full budget" in text and "fc, 1 epochs (`fc__martinez_et_al`)" in text


def test_train_cli_runs_the_protocol(tmp_path):
    from semgcn.datasets.h36m import TEST_SUBJECTS, TRAIN_SUBJECTS
    from tests.test_semgcn.test_h36m import write_h36m_npz
    from tools.train import main

    write_h36m_npz(tmp_path, TRAIN_SUBJECTS + TEST_SUBJECTS, frames=10)
    out = tmp_path / "run"
    assert main(["--h36m", str(tmp_path), "--model", "resgcn", "--epochs", "1", "--steps-per-epoch", "2",
                 "--out", str(out), "--no-progress"]) == 0
    # The result is the final epoch: nothing is selected on the test subjects S9 / S11.
    assert (out / "last.pt").exists() and (out / "history.json").exists() and not (out / "best.pt").exists()
