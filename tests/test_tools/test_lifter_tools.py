"""The lifter CLIs: param_table writes the generated table, export_lifter verifies, bench_lifter runs."""
from __future__ import annotations

import json

import torch

from semgcn.checkpoint import save_checkpoint
from semgcn.models import build_model
from tools import bench_lifter, export_lifter, param_table


def test_param_table_writes_every_model_and_all_round_to_the_paper(tmp_path, capsys):
    out = tmp_path / "params.md"
    assert param_table.main(["--output", str(out)]) == 0
    text = out.read_text()
    for name in ("resgcn", "semgcn_no_semgconv", "semgcn_no_nonlocal", "`semgcn`", "`fc`"):
        assert name in text
    assert text.count("| yes |") == 5 and "| NO |" not in text
    assert "434,703" in capsys.readouterr().out


def test_export_lifter_cli_verifies_and_reports(tmp_path, capsys):
    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "m.pt", build_model("semgcn_no_nonlocal", num_blocks=1))
    assert export_lifter.main([str(ckpt), "-o", str(tmp_path / "m.onnx"), "--torchscript-exporter"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["model"] == "semgcn_no_nonlocal" and report["max_abs_diff_m"] < 1e-4
    assert "Softmax" not in report["ops"] and (tmp_path / "m.onnx").is_file()
    assert export_lifter.main([str(tmp_path / "missing.pt")]) == 2


def test_bench_lifter_measures_both_backends(capsys):
    assert bench_lifter.main(["--random", "--iters", "3", "--batch", "8", "--batch-iters", "2", "--warmup", "1"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(report["results"]) == {"onnxruntime", "torch"}
    for r in report["results"].values():
        assert r["model_b1_p50_ms"] > 0 and r["model_b8_poses_per_s"] > 0


def test_bench_lifter_against_a_baseline(capsys):
    """--baseline times the shipped model with and without flip against another file, interleaved."""
    from engines.lifter import DEFAULT_ONNX

    assert bench_lifter.main(["--baseline", str(DEFAULT_ONNX), "--iters", "3", "--batch", "8", "--batch-iters", "2",
                              "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    assert "without flip" in out
    versus = json.loads(out.strip().splitlines()[-1])["versus_baseline"]
    assert set(versus) == {"b1", "b8"}
    for r in versus.values():
        assert min(r["new_ms"], r["new_no_flip_ms"], r["old_ms"]) > 0
        assert r["new_no_flip_over_old"] == r["new_no_flip_ms"] / r["old_ms"]
