"""run_live.py --vmc and --livelink end to end, received by independent receivers on loopback.

The VMC receiver is python-osc's own UDP server; the Live Link receiver a plain UDP socket and
``json``. Both rebuild the skeleton by forward kinematics from what they received (local positions and
rotations, in Unity's and Unreal's axes, with the hierarchies those engines use) and compare it with
the solver's own bone positions, which the same run publishes on its ZeroMQ stream.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import numpy as np
import zmq
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from scipy.spatial.transform import Rotation

from realtime.subscriber import Subscriber, iterate
from tests.conftest import REPO

FRAMES = 45  # the first 30 estimate the bone lengths (calibrating), the rest hold them
# Unity's humanoid hierarchy, as a receiver knows it (HumanBodyBones names and parents).
UNITY_PARENTS = {
    "Hips": None, "Spine": "Hips", "Chest": "Spine", "Neck": "Chest", "Head": "Neck",
    "LeftShoulder": "Chest", "LeftUpperArm": "LeftShoulder", "LeftLowerArm": "LeftUpperArm",
    "LeftHand": "LeftLowerArm", "RightShoulder": "Chest", "RightUpperArm": "RightShoulder",
    "RightLowerArm": "RightUpperArm", "RightHand": "RightLowerArm", "LeftUpperLeg": "Hips",
    "LeftLowerLeg": "LeftUpperLeg", "LeftFoot": "LeftLowerLeg", "RightUpperLeg": "Hips",
    "RightLowerLeg": "RightUpperLeg", "RightFoot": "RightLowerLeg",
}
# The documented axis changes (docs/skeleton_solver.md): solver frame -> Unity, -> Unreal (cm).
SOLVER_TO_UNITY = np.diag([-1.0, 1.0, 1.0])
SOLVER_TO_UNREAL = 100.0 * np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class BundleDispatcher(Dispatcher):
    """python-osc's dispatcher, also keeping each datagram's messages together (one bundle per frame)."""

    def __init__(self):
        super().__init__()
        self.bundles: list[list[tuple[str, tuple]]] = []
        self.set_default_handler(lambda address, *args: self.bundles[-1].append((address, args)))

    def call_handlers_for_packet(self, data, client_address):
        self.bundles.append([])
        return super().call_handlers_for_packet(data, client_address)


def _fk(rest: dict, rotation: dict, root_pos: np.ndarray, root_rot: Rotation, parents: dict) -> dict:
    """Forward kinematics over named local transforms (parents listed before children)."""
    pos, rot = {}, {}
    for name, parent in parents.items():
        base_pos, base_rot = (root_pos, root_rot) if parent is None else (pos[parent], rot[parent])
        pos[name] = base_pos + base_rot.apply(rest[name])
        rot[name] = base_rot * rotation[name]
    return pos


def _free_zmq_address() -> str:
    probe = zmq.Context.instance().socket(zmq.PUB)
    port = probe.bind_to_random_port("tcp://127.0.0.1")
    probe.close(0)
    return f"tcp://127.0.0.1:{port}"


def test_run_live_streams_every_frame_over_vmc_and_live_link_with_forward_kinematics_within_1mm():
    dispatcher = BundleDispatcher()
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    livelink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    livelink.bind(("127.0.0.1", 0))
    livelink.settimeout(0.2)
    livelink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    address = _free_zmq_address()
    try:
        with Subscriber(address) as sub:
            proc = subprocess.Popen(
                [sys.executable, str(REPO / "run_live.py"), "--source", "demo", "--headless", "--no-realtime",
                 "--max-frames", str(FRAMES), "--publish", address, "--wait-subscribers", "1", "--wait-timeout", "60",
                 "--status-every", "0", "--vmc", f"127.0.0.1:{server.server_address[1]}",
                 "--livelink", f"127.0.0.1:{livelink.getsockname()[1]}"],
                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                frames = list(iterate(sub, count=FRAMES, timeout_s=180.0))
                stdout, stderr = proc.communicate(timeout=180)
            finally:
                if proc.poll() is None:  # a failed wait must not leave run_live.py running
                    proc.kill()
                    proc.communicate()
        datagrams = []
        while True:
            try:
                datagrams.append(json.loads(livelink.recv(1 << 16)))
            except socket.timeout:
                break
    finally:
        server.shutdown()
        server.server_close()
        livelink.close()
        serving.join(5)
    assert proc.returncode == 0, stderr
    assert "stage solve" in stdout and "stage vmc" in stdout and "stage livelink" in stdout
    assert len(frames) == FRAMES and all(f.has_person for f in frames)
    solved = np.stack([f.arrays["skeleton_positions"] for f in frames]).astype(np.float64)  # solver frame
    assert all(f.header["skeleton"]["rig"] == "semgcn.humanoid/1" for f in frames)
    _check_vmc(dispatcher.bundles, solved)
    _check_live_link(datagrams, solved)


def _check_vmc(bundles: list, solved: np.ndarray) -> None:
    assert len(bundles) == FRAMES  # one bundle per frame, none lost
    names = list(UNITY_PARENTS)
    offsets_seen, errors, states = [], [], []
    for bundle, want in zip(bundles, solved):
        by_address = {}
        for address, args in bundle:
            by_address.setdefault(address, []).append(args)
        loaded, calibration, mode, tracking = by_address["/VMC/Ext/OK"][0]
        assert (loaded, mode, tracking) == (1, 0, 1) and calibration in (2, 3)
        states.append(calibration)
        assert len(by_address["/VMC/Ext/T"]) == 1
        (root,) = by_address["/VMC/Ext/Root/Pos"]
        assert root[0] == "root"
        bones = {args[0]: args[1:] for args in by_address["/VMC/Ext/Bone/Pos"]}
        assert sorted(bones) == sorted(names)  # every bone, every bundle
        quats = np.array([bones[n][3:] for n in names])
        np.testing.assert_allclose(np.linalg.norm(quats, axis=1), 1.0, atol=1e-5)
        rest = {n: np.array(bones[n][:3]) for n in names}
        assert all(np.linalg.norm(rest[n]) > 0.01 for n in names)  # no zero offsets
        offsets_seen.append(np.array([bones[n][:3] for n in names]))
        fk = _fk(rest, {n: Rotation.from_quat(bones[n][3:]) for n in names}, np.array(root[1:4]),
                 Rotation.from_quat(root[4:8]), UNITY_PARENTS)
        want_unity = want @ SOLVER_TO_UNITY.T
        errors.append(max(np.linalg.norm(fk[n] - want_unity[i]) for i, n in enumerate(names)))
    states = np.array(states)
    calibrated = states == 3
    assert not calibrated[:29].any() and calibrated[30:].all()  # 30 frames to estimate, then held
    held = np.stack(offsets_seen)[calibrated]
    assert (held == held[0]).all()  # rest offsets (hence bone lengths) constant, bit for bit
    print(f"\nVMC: {len(bundles)} bundles of {len(names)} bones; FK vs solver max {max(errors) * 1000:.4f} mm")
    assert max(errors) < 1e-3


def _check_live_link(datagrams: list, solved: np.ndarray) -> None:
    assert len(datagrams) == FRAMES
    errors, locations = [], []
    for doc, want in zip(datagrams, solved):
        (subject,) = doc
        bones = doc[subject]
        assert subject == "SemGCN" and bones[0]["Name"] == "Root" and bones[0]["Parent"] == -1
        names = [b["Name"] for b in bones]
        parents = {b["Name"]: (None if b["Parent"] < 0 else names[b["Parent"]]) for b in bones}
        assert {n: parents[n] for n in UNITY_PARENTS} == {n: p or "Root" for n, p in UNITY_PARENTS.items()}
        assert all(b["Scale"] == [1.0, 1.0, 1.0] for b in bones)
        rest = {b["Name"]: np.array(b["Location"]) for b in bones}
        rotation = {b["Name"]: Rotation.from_quat(b["Rotation"]) for b in bones}
        fk = _fk(rest, rotation, np.zeros(3), Rotation.identity(), parents)
        want_unreal = want @ SOLVER_TO_UNREAL.T
        errors.append(max(np.linalg.norm(fk[n] - want_unreal[i]) for i, n in enumerate(UNITY_PARENTS)))
        locations.append([b["Location"] for b in bones[1:]])
    print(f"Live Link: {len(datagrams)} datagrams; FK vs solver max {max(errors) * 10:.4f} mm")
    assert max(errors) < 0.1  # centimetres: 1 mm
    held = np.array(locations)[30:]
    assert (held == held[0]).all()
