"""Export a lifter checkpoint to ONNX and check it against PyTorch with ONNX Runtime.

    python -m tools.export_lifter runs/semgcn/best.pt -o engines/models/semgcn_lifter.onnx

Writes an opset-17 graph with a dynamic batch axis, input ``keypoints`` (B,16,2) and output
``joints_3d`` (B,16,3), each SemGConv's softmax(M ⊙ A) folded into a constant; prints the largest
ONNX Runtime / PyTorch difference and exits with status 1 when it exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.export_lifter", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="a .pt checkpoint written by semgcn.checkpoint.save_checkpoint")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="the .onnx file to write (default: the checkpoint's path with .onnx)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version (default 17)")
    p.add_argument("--atol", type=float, default=1e-4,
                   help="largest allowed |ONNX Runtime - PyTorch| in metres (default 1e-4)")
    p.add_argument("--torchscript-exporter", action="store_true",
                   help="use the legacy TorchScript exporter instead of torch.export (faster, deprecated)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from semgcn.checkpoint import load_checkpoint
    from semgcn.export import export_onnx

    torch.set_num_threads(1)
    try:
        model, ckpt = load_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output = args.output or args.checkpoint.with_suffix(".onnx")
    try:
        result = export_onnx(model, output, opset=args.opset, atol=args.atol,
                             metadata={"semgcn.checkpoint": args.checkpoint.name},
                             dynamo=not args.torchscript_exporter)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"onnx": str(result.path), "model": ckpt["model"], "max_abs_diff_m": result.max_abs_diff,
                      "sha256": result.sha256, "ops": result.op_types, "bytes": result.path.stat().st_size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
