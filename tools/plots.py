"""Draw the figures of training runs: curves (like Fig. 4) and learned SemGConv weights (like Fig. 7 / 8).

    python -m tools.plots --runs runs/semgcn_final --out docs/figures --prefix lifter_
    python -m tools.plots --runs runs/ablation/* --out /tmp/figs      # curves of several runs together

Reads ``history.json`` and ``last.pt`` of each run folder. Writes ``<prefix>curves.png`` (all runs in
one figure) and ``<prefix><run>_semgconv_weights.png`` per run whose model has SemGConv layers.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from semgcn.checkpoint import load_checkpoint
from semgcn.figures import plot_curves, plot_semgconv_weights


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.plots", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=Path, nargs="+", required=True, help="training run folders")
    p.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    p.add_argument("--prefix", default="", help="file name prefix (default none)")
    p.add_argument("--val-key", default="exact", help="validation set plotted (exact or noisy)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    histories, written = {}, []
    for run in args.runs:
        hist_file = run / "history.json"
        if not hist_file.is_file():
            print(f"error: {hist_file} not found (not a training run folder?)", file=sys.stderr)
            return 2
        histories[run.name] = json.loads(hist_file.read_text())
        if (run / "last.pt").is_file():
            model, _ = load_checkpoint(run / "last.pt")
            name = f"{args.prefix}semgconv_weights.png" if len(args.runs) == 1 else \
                f"{args.prefix}{run.name}_semgconv_weights.png"
            path = plot_semgconv_weights(model, args.out / name, title=f"{run.name}: softmax(M ⊙ A) per SemGConv layer")
            if path is not None:
                written.append(str(path))
    written.append(str(plot_curves(histories, args.out / f"{args.prefix}curves.png", args.val_key)))
    print(json.dumps({"written": written}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
