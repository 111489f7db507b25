"""Check in Blender that received VMC bone rotations drive an armature onto the solver's skeleton.

Runs ``run_live.py --source demo --headless --vmc`` (the real pipeline: BlazePose, SemGCN, the solve
stage, the VMC sender), receives its OSC bundles with python-osc's server and the solver's own bone
positions from its ZeroMQ stream, then in Blender (``bpy`` from PyPI in a throwaway venv,
``tools.blender_python``) builds an armature from the received rest skeleton (every bone's head at its
rest position, its tail towards its child, as a rigged avatar's), sets each pose bone's rotation from
the received local rotation, lets Blender evaluate the pose, and compares every bone's head with the
solver's position of that bone.

The conversions are the documented ones (docs/skeleton_solver.md): Unity -> Blender axes is
``SOLVER_TO_BLENDER @ SOLVER_TO_UNITY`` (a mirror: right-handed z-up from left-handed y-up), and a pose
bone's rotation is its local rotation expressed in the bone's own rest axes, ``B^-1 L B``.

    python -m tools.check_vmc_blender [--frames 90] [--blender-python /tmp/bpy-venv/bin/python]

Prints the largest error in millimetres; exit code 1 above ``--tol-mm``. Not part of CI (it downloads
Blender the first time).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import zmq
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from realtime.stream.subscriber import Subscriber
from semgcn.solver.axes import SOLVER_TO_BLENDER, SOLVER_TO_UNITY
from semgcn.solver.rig import BONE_NAMES, BONE_PARENTS
from tools.blender_python import blender_python, run_blender_script

REPO = Path(__file__).resolve().parents[1]

# Runs inside Blender's Python: argv = data.npz path.
_BLENDER_SCRIPT = r"""
import json, sys
import bpy
import numpy as np
from mathutils import Matrix, Quaternion, Vector
data = np.load(sys.argv[1])
names, parents = json.loads(str(data["names"])), json.loads(str(data["parents"]))
m = data["unity_to_blender"]
sign = -1.0 if np.linalg.det(m) < 0 else 1.0
def point(p): return Vector(m @ p)
def rotation(q): return Quaternion((q[3], *(sign * (m @ q[:3]))))  # Blender: (w, x, y, z)
bpy.ops.wm.read_factory_settings(use_empty=True)
armature = bpy.data.armatures.new("rig")
obj = bpy.data.objects.new("rig", armature)
bpy.context.scene.collection.objects.link(obj)
bpy.context.view_layer.objects.active = obj
bpy.ops.object.mode_set(mode="EDIT")
rest = {}
for i, name in enumerate(names):  # parents come first
    rest[name] = point(data["offsets"][i]) + (rest[names[parents[i]]] if parents[i] >= 0 else Vector((0, 0, 0)))
children = {n: [c for c, p in zip(names, parents) if p >= 0 and names[p] == n] for n in names}
for i, name in enumerate(names):
    bone = armature.edit_bones.new(name)
    bone.head = rest[name]
    tail = sum((rest[c] for c in children[name]), Vector((0, 0, 0))) / max(len(children[name]), 1)
    if not children[name] or (tail - bone.head).length < 1e-3:  # a leaf, or children on its head
        tail = bone.head + point(data["offsets"][i]).normalized() * 0.05
    bone.tail = tail
    if parents[i] >= 0:
        bone.parent = armature.edit_bones[names[parents[i]]]
bpy.ops.object.mode_set(mode="POSE")
worst = 0.0
for f in range(len(data["rotations"])):
    obj.location = point(data["root"][f, :3])
    obj.rotation_mode = "QUATERNION"
    obj.rotation_quaternion = rotation(data["root"][f, 3:])
    for i, name in enumerate(names):
        b = obj.data.bones[name].matrix_local.to_quaternion()
        pose = obj.pose.bones[name]
        pose.rotation_mode = "QUATERNION"
        pose.rotation_quaternion = b.inverted() @ rotation(data["rotations"][f, i]) @ b
    bpy.context.view_layer.update()
    got = np.array([list(obj.matrix_world @ obj.pose.bones[n].head) for n in names])
    worst = max(worst, float(np.linalg.norm(got - data["reference"][f], axis=1).max()))
print("RESULT " + json.dumps({"bones": len(names), "frames": len(data["rotations"]), "max_error_m": worst,
                              "blender": bpy.app.version_string}))
"""


class _Bundles(Dispatcher):
    """python-osc's dispatcher keeping each datagram's messages together."""

    def __init__(self):
        super().__init__()
        self.bundles: list[list] = []
        self.set_default_handler(lambda address, *args: self.bundles[-1].append((address, args)))

    def call_handlers_for_packet(self, data, client_address):
        self.bundles.append([])
        return super().call_handlers_for_packet(data, client_address)


def receive_run(frames: int) -> tuple[list, list]:
    """Run the demo with --vmc; returns (the OSC bundles, the stream frames)."""
    dispatcher = _Bundles()
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    probe = zmq.Context.instance().socket(zmq.PUB)
    address = f"tcp://127.0.0.1:{probe.bind_to_random_port('tcp://127.0.0.1')}"
    probe.close(0)
    received = []
    try:
        with Subscriber(address) as sub:
            run = subprocess.Popen([sys.executable, str(REPO / "run_live.py"), "--source", "demo", "--headless",
                                    "--no-realtime", "--max-frames", str(frames), "--publish", address,
                                    "--wait-subscribers", "1", "--status-every", "0",
                                    "--vmc", f"127.0.0.1:{server.server_address[1]}"], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                while len(received) < frames and (frame := sub.recv(timeout_ms=120_000)) is not None:
                    received.append(frame)
                _, stderr = run.communicate(timeout=120)
            finally:
                if run.poll() is None:
                    run.kill()
                    run.communicate()
        if run.returncode != 0:
            raise RuntimeError(f"run_live.py failed: {stderr.strip()[-400:]}")
    finally:
        server.shutdown()
        server.server_close()
    return dispatcher.bundles, received


def blender_inputs(bundles: list, frames: list) -> dict:
    """The calibrated frames' received data and the solver's positions, for the Blender script."""
    rotations, root, reference, offsets = [], [], [], None
    for sent, frame in zip(bundles, frames):
        ok = next(args for address, args in sent if address == "/VMC/Ext/OK")
        if ok[1] != 3 or not frame.has_person:  # calibrating: the rest skeleton is not final yet
            continue
        bones = {args[0]: args[1:] for address, args in sent if address == "/VMC/Ext/Bone/Pos"}
        root_args = next(args for address, args in sent if address == "/VMC/Ext/Root/Pos")
        offsets = np.array([bones[n][:3] for n in BONE_NAMES])
        rotations.append([bones[n][3:] for n in BONE_NAMES])
        root.append(root_args[1:8])
        reference.append(frame.arrays["skeleton_positions"] @ SOLVER_TO_BLENDER.T)
    if offsets is None:
        raise RuntimeError("no calibrated frame received (run more --frames)")
    return {"names": json.dumps(list(BONE_NAMES)), "parents": json.dumps(list(BONE_PARENTS)),
            "offsets": offsets, "rotations": np.array(rotations), "root": np.array(root),
            "reference": np.array(reference), "unity_to_blender": SOLVER_TO_BLENDER @ SOLVER_TO_UNITY}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_vmc_blender", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=90, help="demo frames to run (the first 30 calibrate)")
    parser.add_argument("--blender-python", help="a Python that can `import bpy` (default: tools.blender_python)")
    parser.add_argument("--tol-mm", type=float, default=1.0, help="largest error accepted (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        bundles, frames = receive_run(args.frames)
        data = blender_inputs(bundles, frames)
        python = args.blender_python or blender_python()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "data.npz", **data)
        try:
            result = run_blender_script(python, _BLENDER_SCRIPT, str(Path(tmp) / "data.npz"))
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    error_mm = result["max_error_m"] * 1000
    print(f"Blender {result['blender']}: armature of {result['bones']} bones from the received rest skeleton, "
          f"{result['frames']} frames of received VMC rotations ({len(bundles)} bundles received); "
          f"max bone error against the solver's skeleton: {error_mm:.4f} mm")
    return 0 if error_mm <= args.tol_mm else 1


if __name__ == "__main__":
    sys.exit(main())
