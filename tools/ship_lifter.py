"""Ship a trained lifter: checkpoint + ONNX into engines/models/, measured metrics into the model card.

    python -m tools.ship_lifter --run runs/semgcn_final

Steps (all measured, nothing typed by hand):
 1. ``RUN/last.pt`` (the final epoch) -> ``engines/models/semgcn_lifter.pt`` without optimiser state;
 2. ONNX export (``semgcn.export.export_onnx``: opset 17, dynamic batch, folded adjacencies, checked
    against PyTorch with ONNX Runtime) -> ``engines/models/semgcn_lifter.onnx``;
 3. the shipped ONNX file, through the public ``engines.lifter.Lifter``, on the held-out people with
    exact and with detector-like 2D: P1, scale-calibrated P1, P2;
 4. ``docs/model_card_lifter.md`` from those figures and the run's history, and the run's figures
    copied into ``docs/figures/``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from semgcn.checkpoint import load_checkpoint, save_checkpoint
from semgcn.models import count_parameters
from semgcn.skeleton import JOINT_NAMES
from semgcn.train_loop import slim_meta

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "engines" / "models"
DOCS = REPO / "docs"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.ship_lifter", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="training run folder (with best.pt, history.json)")
    p.add_argument("--checkpoint", default="last.pt",
                   help="checkpoint file in the run (default last.pt: the final epoch, so that no choice was made "
                        "by looking at the held-out people the card reports on)")
    p.add_argument("--models-dir", type=Path, default=MODELS, help=f"where to write the weights ({MODELS})")
    p.add_argument("--docs-dir", type=Path, default=DOCS, help=f"where the model card and figures go ({DOCS})")
    p.add_argument("--note", default="", help="a sentence added to the model card's training section "
                   "(e.g. how this run was chosen among others)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    return p


def evaluate_shipped(onnx_path: Path, threads: int) -> dict:
    """The three figures of the shipped ONNX file via ``engines.lifter.Lifter`` on the held-out sets."""
    from engines.lifter import Lifter
    from semgcn.datasets.lifting import DataOptions, prepare_mocap
    from semgcn.metrics import per_joint_errors, pose_errors_mm

    data = prepare_mocap(DataOptions(), progress=False)
    lifter = Lifter(model_path=onnx_path, threads=threads)
    out = {}
    for name, s in data.val.items():
        pred = lifter.predict(s.keypoints_2d, image_size=s.image_size, focal=s.focal, center=s.center)
        out[name] = pose_errors_mm(pred, s.joints_3d)
        out[name]["per_person"] = {p: pose_errors_mm(pred[s.person == p], s.joints_3d[s.person == p])
                                   for p in sorted(set(s.person.tolist()))}
        out[name]["per_joint_mm"] = (1000.0 * per_joint_errors(pred, s.joints_3d).mean(axis=0)).tolist()
        out[name]["axis_abs_mm"] = (1000.0 * np.abs(pred - s.joints_3d).mean(axis=(0, 1))).tolist()
    out["description"] = data.description
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    from semgcn.export import export_onnx

    src = args.run / args.checkpoint
    try:
        model, ckpt = load_checkpoint(src)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = slim_meta(ckpt.get("meta", {}))
    args.models_dir.mkdir(parents=True, exist_ok=True)
    pt_path = save_checkpoint(args.models_dir / "semgcn_lifter.pt", model, meta)
    onnx_path = args.models_dir / "semgcn_lifter.onnx"
    result = export_onnx(model, onnx_path, metadata={"semgcn.training_command": meta.get("command", ""),
                                                     "semgcn.licence_data": "CMU mocap (see NOTICE); ReActIdle MIT"})
    metrics = evaluate_shipped(onnx_path, args.threads)
    summary = {"checkpoint": str(pt_path), "onnx": str(onnx_path), "onnx_max_abs_diff_m": result.max_abs_diff,
               "onnx_sha256": result.sha256, "parameters": count_parameters(model),
               "pt_bytes": pt_path.stat().st_size, "onnx_bytes": onnx_path.stat().st_size,
               "metrics": {k: {m: v[m] for m in ("mpjpe_mm", "mpjpe_scaled_mm", "pmpjpe_mm", "n")}
                           for k, v in metrics.items() if k != "description"}}
    figures = args.docs_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for name in ("curves.png", "semgconv_weights.png"):
        if (args.run / name).exists():
            shutil.copy(args.run / name, figures / f"lifter_{name}")
    write_model_card(args.docs_dir / "model_card_lifter.md", model, meta, metrics, dict(summary, note=args.note))
    print(json.dumps(summary))
    return 0


def _fmt(v: dict) -> str:
    return f"{v['mpjpe_mm']:.1f} | {v['mpjpe_scaled_mm']:.1f} | {v['pmpjpe_mm']:.1f} | {v['n']}"


def write_model_card(path: Path, model, meta: dict, metrics: dict, summary: dict) -> Path:
    """Write the lifter's model card from measured figures (see the module docstring)."""
    data = meta.get("data", {})
    history = meta.get("history", [])
    options = meta.get("options", {})
    cams, aug = data.get("cameras", {}), data.get("augment", {})
    last = history[-1] if history else {}
    rows = "\n".join(f"| {name} 2D | {_fmt(v)} |" for name, v in metrics.items() if name != "description")
    joints = "\n".join(f"| {name} | {metrics['exact']['per_joint_mm'][j]:.0f} | {metrics['noisy']['per_joint_mm'][j]:.0f} |"
                       for j, name in enumerate(JOINT_NAMES))
    ax_e, ax_n = metrics["exact"]["axis_abs_mm"], metrics["noisy"]["axis_abs_mm"]
    people = "\n".join(f"| {p} | {_fmt(v)} | {_fmt(metrics['noisy']['per_person'][p])} |"
                       for p, v in metrics["exact"]["per_person"].items())
    curve = "\n".join(f"| {h['epoch']} | {h['train_loss']:.4f} | {h['val']['exact']['mpjpe_mm']:.1f} | "
                       f"{h['val']['exact']['pmpjpe_mm']:.1f} | {h['val'].get('noisy', h['val']['exact'])['mpjpe_mm']:.1f} |"
                       for h in history)
    text = f"""# Model card: SemGCN 2D-to-3D lifter (`engines/models/semgcn_lifter.onnx`, `.pt`)

Generated by `python -m tools.ship_lifter` from the training run's checkpoint; every figure below was
measured by that command (do not edit by hand: re-run it).

## Model
- Architecture: `{getattr(model, "model_name", "?")}` (Fig. 2 of Zhao et al., CVPR 2019: input SemGConv,
  4 residual blocks of two 128-channel SemGConv layers, a non-local layer after the input layer and after
  each block), config `{json.dumps(getattr(model, "model_config", {}), sort_keys=True)}`,
  **{summary["parameters"]:,} parameters**.
- Input: `(B, 16, 2)` float32, the output of `semgcn.codec.normalize_2d` (pixels -> camera-normalised,
  pelvis-centred, RMS-scale-normalised coordinates; see `docs/normalisation.md`). Joints in
  `semgcn.skeleton.JOINT_NAMES` order (`shared/SKELETON.md`).
- Output: `(B, 16, 3)` float32 metres, camera frame (OpenCV: x right, y down, z forward), pelvis at the origin.
- Files: `semgcn_lifter.onnx` (opset 17, dynamic batch, SemGConv `softmax(M ⊙ A)` folded into
  constants; ONNX Runtime vs PyTorch max |diff| {summary["onnx_max_abs_diff_m"]:.2e} m;
  {summary["onnx_bytes"] / 1e6:.2f} MB; sha256 `{summary["onnx_sha256"][:16]}...`) and `semgcn_lifter.pt`
  (`semgcn.checkpoint` format, {summary["pt_bytes"] / 1e6:.2f} MB).

## Training data
- Motion capture from `../shared/mocap` (never committed): {data.get("clips", "?")} BVH clips, the CMU Graphics
  Lab database subset on the iClone rig (subjects 001 002 003 005 006 007; one body, retargeted) and
  ReActIdle (idle standing of 14 people of different sizes). Read by `semgcn.bvh`, mapped to the 16 joints by
  `semgcn.rigs` (CMU: T-pose frame 0 dropped; ReActIdle: head = neck + 0.75 (face - neck), wrist = forearm end).
- Poses kept at {data.get("target_fps", "?")} per second (CMU) and {data.get("target_fps_idle", "?")} per second
  (ReActIdle idle motion, which changes slowly): **{data.get("train_poses", "?")} training poses** from
  {", ".join(data.get("train_people", []))}.
- Held out (split by person, never by frame): **{", ".join(data.get("val_people", []))}**
  ({data.get("val_poses", "?")} poses), seen by fixed random cameras (seed {data.get("val_seed", "?")}).
- Virtual webcams, a new one for every pose and every epoch: horizontal field of view
  {cams.get("hfov_deg")} degrees, image sizes {cams.get("image_sizes")}, {cams.get("distance_m")} m from the
  pelvis, camera height {cams.get("height_m")} m above the floor, azimuth all round, roll up to
  {cams.get("roll_deg")} degrees, aimed within {cams.get("aim_jitter_m")} m of the pelvis, principal point
  within {cams.get("principal_jitter")} of the image size of the centre; redrawn until the whole body is in the
  frame with a {cams.get("margin")} margin. OpenCV projection.
- Augmentations: left-right mirror (p = {aug.get("flip_prob")}, labels swapped); bone lengths: body size
  {aug.get("body_scale")}, per bone pair {aug.get("bone_scale")}, shoulder/hip width {aug.get("width_scale")},
  asymmetry {aug.get("asymmetry")}; 2D noise: with p = {aug.get("noise_prob")} Gaussian with sigma up to
  {aug.get("noise_sigma")} of the body's image height, outliers p = {aug.get("outlier_prob")} per joint with sigma
  {aug.get("outlier_sigma")}; dropped joints: p = {aug.get("drop_prob")} per pose, up to {aug.get("max_dropped")}
  joints, each replaced by its parent's 2D position (the convention a live app must follow, see
  `docs/normalisation.md`).

## Training
- Command: `{meta.get("command", "?")}`
- Adam, lr {options.get("lr")} decayed exponentially to {options.get("lr_final")} of it, batch
  {options.get("batch_size")}, {options.get("epochs")} epochs, loss of Eq. 7 with bone weight
  {options.get("bone_weight")}, seed {options.get("seed")}, gradient-norm clip {options.get("grad_clip")}.
  1 CPU thread (shared machine); {last.get("seconds", 0) / 60:.1f} min of training. Shipped checkpoint: the
  run's final epoch ({last.get("epoch", "?")}); within the run, no epoch was picked by its held-out error.
  {summary.get("note", "")}

## Accuracy on the held-out people (mm)
Measured on the shipped ONNX file through `engines.lifter.Lifter`. P1 = MPJPE after root alignment (Protocol #1);
scaled P1 = P1 after scaling each prediction so that its bone lengths sum to the subject's (the paper's
calibration, Sect. 5.2; the live app learns it from the user's height); P2 = after Procrustes alignment.

| 2D input | P1 | scaled P1 | P2 | poses |
|---|---|---|---|---|
{rows}

Per held-out person:

| person | P1 exact | scaled P1 exact | P2 exact | poses | P1 noisy | scaled P1 noisy | P2 noisy | poses |
|---|---|---|---|---|---|---|---|---|
{people}

Per joint (P1, mm) and mean absolute error per camera axis (x, y, z): exact
{ax_e[0]:.0f} / {ax_e[1]:.0f} / {ax_e[2]:.0f} mm, noisy {ax_n[0]:.0f} / {ax_n[1]:.0f} / {ax_n[2]:.0f} mm. Depth (z, along the
optical axis) is the hardest, and the error grows towards the ends of the limbs:

| joint | exact 2D | detector-like 2D |
|---|---|---|
{joints}

"Detector-like 2D" adds Gaussian pixel noise (sigma up to 2% of the body height), rare outliers and dropped
joints to the same views. These are not Human3.6M numbers and cannot be compared with the paper's Table 1 / 3:
the data, the cameras and the people differ (`python -m tools.train --h36m DIR` runs the paper's protocol for
anyone who has the dataset).

Training curve (`docs/figures/lifter_curves.png`) and learned SemGConv edge weights
(`docs/figures/lifter_semgconv_weights.png`, like Fig. 7 / 8):

| epoch | train loss | P1 exact | P2 exact | P1 noisy |
|---|---|---|---|---|
{curve}

## Limitations
- Monocular lifting cannot know a stranger's size: raw P1 mixes pose error with scale error; use scaled P1 /
  P2 to judge the pose, and calibrate scale from the user's height in the app.
- The CMU subset is one retargeted body, and ReActIdle is idle standing only: poses such as lying, crawling,
  sitting on the floor, or people far from these proportions are thinly covered.
- Training 2D is synthetic (exact projections plus a noise model), not a real detector's output; real
  BlazePose errors (systematic joint-definition offsets, self-occlusion) are not modelled, and lens
  distortion is ignored (undistort with `calibration/` first).
- Architecture: on this data and budget the fully connected baseline of Martinez et al. was more accurate than
  SemGCN (see `docs/ablation.md`, generated); SemGCN is shipped because it is the paper's model, ten times
  smaller, and the graph-network ablation ordering of the paper does hold.
- One frame at a time: no temporal smoothing (the app's filters do that).
- The head joint is the ear-level head centre of SKELETON.md; a model trained on Human3.6M would put it at
  the head top.

## Licences of the training data
- CMU: "The data used in this project was obtained from mocap.cs.cmu.edu. The database was created with
  funding from NSF EIA-0196217." Free for research and commercial use.
- ReActIdle: MIT licence, Copyright (c) 2025 RSAIT (Atxa Landa et al., "Evaluating Idle Animation
  Believability: a User Perspective", arXiv:2509.05023). See `engines/models/NOTICE`.
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
