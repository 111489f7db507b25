"""Measure the skeleton solver on the held-out motion-capture people: what constant bones and joint
limits cost in position, and whether the rotations stay as smooth as the motion.

The input is exact: each clip's canonical 16 joints (``semgcn.rigs.load_canonical``), and the bones are
held at the mocap's own lengths (the clip's robust median of each bone, left and right kept apart:
``semgcn.solver.lengths.robust_lengths``).
The people are the lifter's held-out ones (``semgcn.datasets.mocap.DEFAULT_VAL_PEOPLE``). No landmarks:
head, hands and feet follow their parents (swing only), as the solver does where BlazePose sees nothing.

* Position: per joint, the distance between the solved skeleton's joint and the input's.
* Continuity: per bone, the largest and the 99th-percentile rotation from one frame to the next, of
  the solver's bone and of the mocap rig's own bone that drives the same body segment (its global
  rotation from the BVH's forward kinematics); "jumps" counts frames where the solver's bone turned more
  than 30 degrees while the mocap's turned less than 10.

    python -m tools.eval_solver                                  # prints the tables
    python -m tools.eval_solver --out docs/solver_accuracy.md    # and writes them there
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from semgcn.bvh import BvhMotion, local_rotation, read_bvh
from semgcn.datasets.mocap import DEFAULT_VAL_PEOPLE, person_id
from semgcn.rigs import detect_rig, load_canonical
from semgcn.skeleton import JOINT_NAMES
from semgcn.solver.clip import solve_clip
from semgcn.solver.lengths import robust_lengths
from semgcn.solver.rig import BONE_NAMES, JOINT_BONE, joint_lengths

SHARED_MOCAP = Path(__file__).resolve().parents[2] / "shared" / "mocap"
#: Each rig's bone driving the segment of each solver bone (None: the rig has none).
RIG_BONES = {
    "cmu_iclone": {"Hips": "CC_Base_Hip", "Spine": "CC_Base_Waist", "Chest": "CC_Base_Spine02",
                   "Neck": "CC_Base_NeckTwist01", "Head": "CC_Base_Head", "LeftShoulder": "CC_Base_L_Clavicle",
                   "LeftUpperArm": "CC_Base_L_Upperarm", "LeftLowerArm": "CC_Base_L_Forearm",
                   "LeftHand": "CC_Base_L_Hand", "LeftUpperLeg": "CC_Base_L_Thigh", "LeftLowerLeg": "CC_Base_L_Calf",
                   "LeftFoot": "CC_Base_L_Foot"},
    "cgspeed": {"Hips": "hip", "Spine": "abdomen", "Chest": "chest", "Neck": "neck", "Head": "head",
                "LeftShoulder": "lCollar", "LeftUpperArm": "lShldr", "LeftLowerArm": "lForeArm", "LeftHand": "lHand",
                "LeftUpperLeg": "lThigh", "LeftLowerLeg": "lShin", "LeftFoot": "lFoot"},
    "reactidle": {"Hips": "pelvis", "Spine": "spine", "Chest": "spine.001", "Neck": "neck", "Head": "face",
                  "LeftShoulder": "shoulder.L", "LeftUpperArm": "upper_arm.L", "LeftLowerArm": "forearm.L",
                  "LeftHand": None, "LeftUpperLeg": "thigh.L", "LeftLowerLeg": "shin.L", "LeftFoot": "foot.L"},
}
_MIRROR = {"cmu_iclone": ("_L_", "_R_"), "cgspeed": ("l", "r"), "reactidle": (".L", ".R")}


def rig_bone(rig: str, bone: str) -> str | None:
    """The rig's bone for solver ``bone`` (right-side names mirrored from the left)."""
    table = RIG_BONES[rig]
    if not bone.startswith("Right"):
        return table.get(bone)
    left = table.get("Left" + bone[len("Right"):])
    if left is None:
        return None
    a, b = _MIRROR[rig]
    return ("r" + left[1:]) if rig == "cgspeed" else left.replace(a, b)


def rig_rotations(clip: BvhMotion, names: list[str], drop: int) -> np.ndarray:
    """Global rotations ``(F, len(names), 3, 3)`` of the named joints of a BVH clip (its own FK), without
    its first ``drop`` frames."""
    sk, motion = clip.skeleton, clip.motion[drop:]
    glob: dict[int, np.ndarray] = {}
    for j, parent in enumerate(sk.parents):
        local = local_rotation(sk, j, motion)
        glob[j] = local if parent < 0 else glob[parent] @ local
    return np.stack([glob[sk.index(n)] for n in names], axis=1)


def step_angles(rotations: np.ndarray) -> np.ndarray:
    """Degrees turned from each frame to the next, ``(F - 1, B)`` for rotations ``(F, B, 3, 3)``."""
    rel = np.einsum("fbji,fbjk->fbik", rotations[:-1], rotations[1:])
    cos = (np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def held_out_clips(root: Path, people: tuple[str, ...]) -> list[Path]:
    return [p for p in sorted(root.rglob("*.bvh")) if person_id(p) in people]


def evaluate(paths: list[Path]) -> dict:
    errors, ours, theirs, jumps, frames = [], defaultdict(list), defaultdict(list), defaultdict(int), 0
    for path in paths:
        clip = load_canonical(path)
        joints = clip.joints.astype(np.float64)
        solved = solve_clip(joints, lengths=robust_lengths(joint_lengths(joints), symmetric=False))  # the rig's own, per side
        errors.append(np.linalg.norm(solved.positions[:, list(JOINT_BONE)] - joints, axis=-1))
        frames += len(joints)
        bvh = read_bvh(path)  # once for the rig's name, its frame count and its own rotations
        rig = detect_rig(bvh.skeleton.names).name
        pairs = [(b, rig_bone(rig, name)) for b, name in enumerate(BONE_NAMES) if rig_bone(rig, name)]
        drop = len(bvh.motion) - len(joints)  # frames the rig map dropped (CMU's T-pose)
        mine = step_angles(solved.global_rotations[:, [b for b, _ in pairs]])
        mocap = step_angles(rig_rotations(bvh, [n for _, n in pairs], drop))
        for k, (b, _) in enumerate(pairs):
            ours[BONE_NAMES[b]].append(mine[:, k])
            theirs[BONE_NAMES[b]].append(mocap[:, k])
            jumps[BONE_NAMES[b]] += int(np.sum((mine[:, k] > 30.0) & (mocap[:, k] < 10.0)))
    return {"errors": np.concatenate(errors), "ours": {k: np.concatenate(v) for k, v in ours.items()},
            "theirs": {k: np.concatenate(v) for k, v in theirs.items()}, "jumps": dict(jumps), "frames": frames,
            "clips": len(paths)}


def report(res: dict, people: tuple[str, ...]) -> list[str]:
    e = res["errors"] * 1000
    lines = [f"Held-out people {', '.join(people)}: {res['clips']} clips, {res['frames']} frames, exact joints in, "
             "the mocap's own bone lengths (each clip's robust median per bone), no landmarks.", "",
             "Position error of the solved skeleton's joints against the input (mm):", "",
             "| joint | mean | p95 | max |", "|---|---|---|---|"]
    for j, name in enumerate(JOINT_NAMES):
        lines.append(f"| {name} | {e[:, j].mean():.1f} | {np.percentile(e[:, j], 95):.1f} | {e[:, j].max():.1f} |")
    lines.append(f"| **all** | {e.mean():.1f} | {np.percentile(e, 95):.1f} | {e.max():.1f} |")
    lines += ["", "Rotation from one frame to the next (degrees): the solver's bone against the mocap rig's own "
              "bone for the same segment; jumps = frames where the solver's turned > 30 while the mocap's turned < 10:",
              "", "| bone | solver max | mocap max | solver p99 | mocap p99 | jumps |", "|---|---|---|---|---|---|"]
    for name in BONE_NAMES:
        if name in res["ours"]:
            a, b = res["ours"][name], res["theirs"][name]
            lines.append(f"| {name} | {a.max():.1f} | {b.max():.1f} | {np.percentile(a, 99):.2f} | "
                         f"{np.percentile(b, 99):.2f} | {res['jumps'][name]} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.eval_solver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=SHARED_MOCAP, help="mocap folder (default: %(default)s)")
    parser.add_argument("--people", nargs="+", default=list(DEFAULT_VAL_PEOPLE),
                        help="person ids to measure (default: the lifter's held-out people)")
    parser.add_argument("--out", type=Path, help="also write the tables as Markdown to this file")
    args = parser.parse_args(argv)
    paths = held_out_clips(args.mocap, tuple(args.people))
    if not paths:
        print(f"error: no BVH clip of {', '.join(args.people)} under {args.mocap}", file=sys.stderr)
        return 2
    lines = report(evaluate(paths), tuple(args.people))
    print("\n".join(lines))
    if args.out:
        header = ["# Skeleton solver on held-out motion capture", "",
                  "Generated by `python -m tools.eval_solver --out docs/solver_accuracy.md` (tools/eval_solver.py); "
                  "method: docs/skeleton_solver.md.", ""]
        args.out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
