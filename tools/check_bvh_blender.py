"""Check that Blender imports an exported session BVH and plays the solver's skeleton on the right bones.

Exports the session to BVH, imports it with Blender's own BVH importer (``bpy``, Blender as a Python
module, in a separate Python that has it: ``pip install bpy`` needs the Python version that the bpy
release was built for, e.g. bpy 4.2 on Python 3.11; without ``--blender-python`` one is made in a
throwaway venv, ``tools.blender_python``), steps through the frames and compares the world position
of each bone's head (bone ``LeftLowerLeg`` starts at the left knee...) with where the skeleton solver
put that bone; with ``--per-frame-lengths``, with where the recording put it.

    python -m tools.check_bvh_blender SESSION.mcap [--blender-python /opt/bpy-venv/bin/python]

Prints the largest error in millimetres over the sampled frames; exit code 1 above ``--tol-mm``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from realtime.recording.exports import bvh_frames, export_bvh, solve_session
from realtime.recording.session_reader import SessionError, read_session
from semgcn.solver.rig import BONE_NAMES
from tools.blender_python import blender_python, run_blender_script

# Runs inside Blender's Python. Blender is z-up: with axis_up="Y", axis_forward="-Z" a BVH point
# (x, y, z) lands at (x, -z, y).
_BLENDER_SCRIPT = r"""
import json, sys
import bpy
import numpy as np
bvh, ref_path, names, samples = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_anim.bvh(filepath=bvh, axis_forward="-Z", axis_up="Y", update_scene_fps=True)
arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
ref = np.load(ref_path) @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float).T
scene = bpy.context.scene
frames = sorted(set(np.linspace(0, len(ref) - 1, samples).astype(int).tolist()))
worst = 0.0
for f in frames:
    scene.frame_set(scene.frame_start + f)
    got = np.array([list(arm.matrix_world @ arm.pose.bones[n].head) for n in names])
    worst = max(worst, float(np.linalg.norm(got - ref[f], axis=1).max()))
print("RESULT " + json.dumps({"bones": [b.name for b in arm.data.bones], "fps": scene.render.fps / scene.render.fps_base,
                              "frames_checked": len(frames), "max_error_m": worst,
                              "action_frames": list(arm.animation_data.action.frame_range)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_bvh_blender", description=__doc__.split("\n\n")[0])
    parser.add_argument("session", help="recorded session (.mcap)")
    parser.add_argument("--blender-python", help="a Python interpreter that can `import bpy` (default: make one in "
                        "/tmp/bpy-venv, downloading bpy the first time)")
    parser.add_argument("--samples", type=int, default=40, help="frames to compare (default: %(default)s)")
    parser.add_argument("--per-frame-lengths", action="store_true",
                        help="check the export with --bone-lengths per-frame (position channels on every joint)")
    parser.add_argument("--tol-mm", type=float, default=1.0, help="largest error accepted (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        session = read_session(args.session)
    except SessionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    clip = solve_session(bvh_frames(session, "frames"))
    python = args.blender_python or blender_python()
    with tempfile.TemporaryDirectory() as tmp:
        bvh = export_bvh(session, Path(tmp) / "clip.bvh", per_frame_lengths=args.per_frame_lengths,
                         timeline="frames")  # one BVH frame per recorded frame, to compare frame by frame
        ref = Path(tmp) / "ref.npy"
        np.save(ref, clip.targets if args.per_frame_lengths else clip.positions)  # BVH axes = the solver frame
        try:
            result = run_blender_script(python, _BLENDER_SCRIPT, str(bvh), str(ref), json.dumps(list(BONE_NAMES)),
                                        str(args.samples))
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    error_mm = result["max_error_m"] * 1000
    against = "the recorded joints" if args.per_frame_lengths else "the solver's skeleton"
    print(f"Blender imported {len(result['bones'])} bones, action frames {result['action_frames']}, "
          f"scene fps {result['fps']:.3f}; max bone error against {against} over {result['frames_checked']} "
          f"frames: {error_mm:.4f} mm")
    return 0 if error_mm <= args.tol_mm else 1


if __name__ == "__main__":
    sys.exit(main())
