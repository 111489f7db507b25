"""Benchmark the lifter on the CPU: ONNX Runtime vs PyTorch eager, measured in the same run.

    python -m tools.bench_lifter                       # the shipped engines/models/semgcn_lifter.{onnx,pt}
    python -m tools.bench_lifter --random              # a randomly initialised SemGCN (same graph, same cost)
    python -m tools.bench_lifter --onnx m.onnx --checkpoint m.pt --threads 2
    python -m tools.bench_lifter --baseline old.onnx   # also: the shipped ONNX against an older one,
                                                       # interleaved call by call, and their ratio

For each backend it prints the latency of one pose (batch 1: p50 / p99 ms) and the throughput at
batch 256 (poses/s), both for the bare model call and for ``Lifter.predict`` (which adds input
checks, the 2D normalisation and root-centring). A benchmark, not a test: the figures depend on the
machine and on its load, which is printed with them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.bench_lifter", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", type=Path, default=None, help="ONNX model (default: the shipped one)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="PyTorch checkpoint for the torch backend (default: the shipped .pt)")
    p.add_argument("--random", action="store_true",
                   help="benchmark a randomly initialised full SemGCN exported to a temporary folder")
    p.add_argument("--threads", type=int, default=1, help="CPU threads of both runtimes (default 1)")
    p.add_argument("--iters", type=int, default=500, help="timed batch-1 calls per backend (default 500)")
    p.add_argument("--batch", type=int, default=256, help="batch size of the throughput test (default 256)")
    p.add_argument("--batch-iters", type=int, default=50, help="timed large-batch calls (default 50)")
    p.add_argument("--warmup", type=int, default=20, help="untimed calls before timing (default 20)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="an older ONNX model to compare with: both run through Lifter.predict, alternating call by "
                        "call so that both see the same machine load; prints the ratio new / old")
    return p


def compare(new_path: Path, old_path: Path, args) -> dict:
    """``Lifter.predict`` of two ONNX files, interleaved call by call (same load for both): p50 latency at
    batch 1 and throughput at ``args.batch``: the new one as it is used live (with test-time flip, the
    Lifter default) and without the flip (``--no-flip-test``: the network alone against the network alone),
    the old one as it was shipped (without flip)."""
    from engines.lifter import Lifter

    lifters = {"new": Lifter(model_path=new_path, threads=args.threads),
               "new_no_flip": Lifter(model_path=new_path, threads=args.threads, flip_test=False),
               "old": Lifter(model_path=old_path, threads=args.threads, flip_test=False)}
    rng = np.random.default_rng(1)
    kp1, kpb = rng.uniform(100, 500, size=(16, 2)), rng.uniform(100, 500, size=(args.batch, 16, 2))
    out = {}
    for label, kp, iters in (("b1", kp1, args.iters), (f"b{args.batch}", kpb, args.batch_iters)):
        times = {k: [] for k in lifters}
        for i in range(iters + args.warmup):
            for name, lifter in lifters.items():
                t0 = time.perf_counter()
                lifter.predict(kp, (640, 480))
                if i >= args.warmup:
                    times[name].append((time.perf_counter() - t0) * 1e3)
        p50 = {k: float(np.median(v)) for k, v in times.items()}
        out[label] = {"new_ms": p50["new"], "new_no_flip_ms": p50["new_no_flip"], "old_ms": p50["old"],
                      "new_over_old": p50["new"] / p50["old"],
                      "new_no_flip_over_old": p50["new_no_flip"] / p50["old"]}
    return out


def _timings_ms(fn, iters: int, warmup: int) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = np.empty(iters)
    for i in range(iters):
        t0 = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t0) * 1e3
    return out


def _random_model_files(folder: Path) -> tuple[Path, Path]:
    import torch

    from semgcn.checkpoint import save_checkpoint
    from semgcn.export import export_onnx
    from semgcn.models import build_model

    torch.manual_seed(0)
    model = build_model("semgcn").eval()
    export_onnx(model, folder / "random_semgcn.onnx", dynamo=False)  # faster; same graph cost
    return folder / "random_semgcn.onnx", save_checkpoint(folder / "random_semgcn.pt", model)


def bench_backend(lifter, args, rng) -> dict:
    """Latency (batch 1) and throughput (large batch) of the model call and of ``predict``."""
    from semgcn.codec import normalize_2d

    kp1 = rng.uniform(100, 500, size=(1, 16, 2))
    kpb = rng.uniform(100, 500, size=(args.batch, 16, 2))
    x1, xb = normalize_2d(kp1, (640, 480)), normalize_2d(kpb, (640, 480))
    run = lifter._backend.run  # the bare model call, without the API's checks
    model_1 = _timings_ms(lambda: run(x1), args.iters, args.warmup)
    predict_1 = _timings_ms(lambda: lifter.predict(kp1[0], (640, 480)), args.iters, args.warmup)
    model_b = _timings_ms(lambda: run(xb), args.batch_iters, max(2, args.warmup // 5))
    predict_b = _timings_ms(lambda: lifter.predict(kpb, (640, 480)), args.batch_iters, max(2, args.warmup // 5))
    return {
        "model_b1_p50_ms": float(np.percentile(model_1, 50)), "model_b1_p99_ms": float(np.percentile(model_1, 99)),
        "predict_b1_p50_ms": float(np.percentile(predict_1, 50)),
        "predict_b1_p99_ms": float(np.percentile(predict_1, 99)),
        f"model_b{args.batch}_poses_per_s": float(args.batch / (np.median(model_b) / 1e3)),
        f"predict_b{args.batch}_poses_per_s": float(args.batch / (np.median(predict_b) / 1e3)),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engines.lifter import DEFAULT_CHECKPOINT, DEFAULT_ONNX, Lifter

    tmp = tempfile.TemporaryDirectory() if args.random else None
    if args.random:
        onnx_path, pt_path = _random_model_files(Path(tmp.name))
    else:
        onnx_path, pt_path = args.onnx or DEFAULT_ONNX, args.checkpoint or DEFAULT_CHECKPOINT
    for path in (onnx_path, pt_path):
        if not Path(path).is_file():
            print(f"error: {path} not found (pass --onnx / --checkpoint, or --random)", file=sys.stderr)
            return 2
    import onnxruntime
    import torch

    rng = np.random.default_rng(0)
    results = {}
    for backend, path in (("onnxruntime", onnx_path), ("torch", pt_path)):
        lifter = Lifter(backend=backend, model_path=path, threads=args.threads)  # "torch" runs on the CPU
        results[backend] = bench_backend(lifter, args, rng)
    env = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
           "load_avg_1min": os.getloadavg()[0], "threads": args.threads, "onnxruntime": onnxruntime.__version__,
           "torch": torch.__version__, "onnx": str(onnx_path), "checkpoint": str(pt_path)}
    print(f"lifter benchmark ({env['cores']} cores, load {env['load_avg_1min']:.1f}, {args.threads} thread(s))")
    print(f"{'backend':12s} {'b1 p50 ms':>10s} {'b1 p99 ms':>10s} {'predict p50':>12s} {'predict p99':>12s} "
          f"{f'b{args.batch} poses/s':>15s} {'predict poses/s':>16s}")
    for backend, r in results.items():
        print(f"{backend:12s} {r['model_b1_p50_ms']:10.3f} {r['model_b1_p99_ms']:10.3f} "
              f"{r['predict_b1_p50_ms']:12.3f} {r['predict_b1_p99_ms']:12.3f} "
              f"{r[f'model_b{args.batch}_poses_per_s']:15,.0f} {r[f'predict_b{args.batch}_poses_per_s']:16,.0f}")
    report = {"env": env, "results": results}
    if args.baseline is not None:
        report["versus_baseline"] = compare(Path(onnx_path), args.baseline, args)
        for label, r in report["versus_baseline"].items():
            print(f"Lifter.predict {label}: new {r['new_ms']:.3f} ms (without flip {r['new_no_flip_ms']:.3f}), "
                  f"old {r['old_ms']:.3f} ms; ratio new / old {r['new_over_old']:.2f}, without flip "
                  f"{r['new_no_flip_over_old']:.2f} (interleaved, {args.baseline})")
    print(json.dumps(report))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
