"""VMC and Live Link with several people (semgcn.pose/2): python-osc's own server and a plain UDP socket
receive what the senders make of people who come and go. The chosen person's forward kinematics land on
that person's own skeleton, solved alone (so nobody's bone lengths leak into another's); VMC says tracking
lost while the chosen person is missing, then follows the next one, calibrated; Live Link sends the
chosen person as its subject and everybody under their id; the command lines play a v2 session."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import numpy as np
from pythonosc.osc_server import BlockingOSCUDPServer
from scipy.spatial.transform import Rotation

from realtime.bridges.vmc import VmcSender
from realtime.recording.recorder import Recorder
from realtime.recording.session_reader import read_session
from semgcn.solver.axes import SOLVER_TO_UNITY, SOLVER_TO_UNREAL
from tests.conftest import REPO
from tests.test_realtime.test_bridges.people_fixtures import SCHEDULE, isolated_skeletons, people_frames, present
from tests.test_realtime.test_bridges.test_rig_outputs_e2e import UNITY_PARENTS, BundleDispatcher, _fk

HOLD_FRAMES = 45  # the selector's 1.5 s at 30 fps
RECEIVE_BUFFER = 1 << 22  # a --speed 0 replay sends faster than python-osc dispatches: room for all of it


class OscReceiver:
    """python-osc's UDP server in a thread, keeping each bundle's messages (``with``: always shut down)."""

    def __init__(self):
        self.dispatcher = BundleDispatcher()
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), self.dispatcher)
        self.server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list:
        deadline = time.monotonic() + timeout_s
        while len(self.dispatcher.bundles) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # anything beyond the count would show now
        return self.dispatcher.bundles

    def __enter__(self) -> "OscReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class UdpReceiver:
    """A UDP socket drained by a thread (so that a burst never overflows its buffer)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.datagrams: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                self.datagrams.append(self.sock.recv(1 << 16))
            except socket.timeout:
                continue

    def __enter__(self) -> "UdpReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.2)
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def _vmc_view(bundle) -> tuple[list, dict, list | None]:
    """(/VMC/Ext/OK arguments, bones by name, root arguments) of one received bundle."""
    ok = next(args for address, args in bundle if address == "/VMC/Ext/OK")
    bones = {args[0]: args[1:] for address, args in bundle if address == "/VMC/Ext/Bone/Pos"}
    root = next((args for address, args in bundle if address == "/VMC/Ext/Root/Pos"), None)
    return list(ok), bones, root


def _check_vmc_person(bones: dict, root, skeleton) -> None:
    """FK of the received bones lands on ``skeleton``; the rest offsets are ``skeleton``'s own."""
    fk = _fk({n: np.array(bones[n][:3]) for n in bones}, {n: Rotation.from_quat(bones[n][3:]) for n in bones},
             np.array(root[1:4]), Rotation.from_quat(root[4:8]), UNITY_PARENTS)
    want = skeleton.positions @ SOLVER_TO_UNITY.T
    assert max(np.linalg.norm(fk[n] - want[i]) for i, n in enumerate(UNITY_PARENTS)) < 1e-3
    rest = skeleton.rest_offsets @ SOLVER_TO_UNITY.T
    np.testing.assert_allclose([bones[n][:3] for n in UNITY_PARENTS], rest, atol=1e-6)  # float32 on the wire


def test_vmc_follows_the_longest_tracked_person_says_when_they_left_then_sends_the_next_calibrated():
    frames = people_frames()
    reference = isolated_skeletons(frames)
    with OscReceiver() as receiver:
        sender = VmcSender("127.0.0.1", receiver.port)
        for frame in frames:
            sender.consume(frame)
            time.sleep(0.001)
        sender.close()
        bundles = receiver.wait_for(len(frames))
    assert len(bundles) == len(frames) and sender.sender.dropped == 0
    left = SCHEDULE[3].last  # person 3 (tracked the longest) leaves here; 8 and 12 stay
    for i, bundle in enumerate(bundles):
        ok, bones, root = _vmc_view(bundle)
        if i < left:
            assert ok[3] == 1 and len(bones) == 19
            _check_vmc_person(bones, root, reference[3][i])
        elif i < left + HOLD_FRAMES - 1:  # 8 and 12 are in view, but the avatar is person 3's: lost
            assert ok == [1, 3, 0, 0] and not bones
        elif i >= left + HOLD_FRAMES + 1:
            assert ok == [1, 3, 0, 1], ok  # person 8, calibrated at once: solved all along
            _check_vmc_person(bones, root, reference[8][i])
    # The two bodies differ by a fifth: rest offsets that matched both would mean nothing was checked.
    ratio = np.linalg.norm(reference[8][100].rest_offsets[1:]) / np.linalg.norm(reference[3][50].rest_offsets[1:])
    assert abs(ratio - 0.8) < 0.02


def _record_people(tmp_path) -> tuple:
    frames = people_frames()
    with Recorder(tmp_path / "people.mcap", {"source": "synthetic"}) as rec:
        for frame in frames:
            rec.consume(frame)
    session = read_session(rec.path)
    assert session.frames[40].wire_major == 2 and [p.id for p in session.frames[40].people] == [3, 8, 12]
    return rec.path, session.frames


def test_the_vmc_command_line_plays_a_v2_session_following_the_person_asked_for(tmp_path):
    path, recorded = _record_people(tmp_path)
    reference = isolated_skeletons(recorded)
    with OscReceiver() as receiver:
        run = subprocess.run([sys.executable, "-m", "realtime.bridges.vmc", "--session", str(path), "--speed", "0",
                              "--to", f"127.0.0.1:{receiver.port}", "--person", "12"],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        bundles = receiver.wait_for(len(recorded))
    assert run.returncode == 0, run.stderr
    assert f"sent {len(recorded)} bundles" in run.stdout and len(bundles) == len(recorded)
    for i, (bundle, here) in enumerate(zip(bundles, present(recorded, 12))):
        ok, bones, root = _vmc_view(bundle)
        assert ok[3] == int(here), i
        if here:
            _check_vmc_person(bones, root, reference[12][i])
        else:
            assert not bones


def _livelink_positions(bones: list[dict]) -> np.ndarray:
    names = [b["Name"] for b in bones]
    parents = {b["Name"]: None if b["Parent"] < 0 else names[b["Parent"]] for b in bones}
    fk = _fk({b["Name"]: np.array(b["Location"]) for b in bones},
             {b["Name"]: Rotation.from_quat(b["Rotation"]) for b in bones}, np.zeros(3), Rotation.identity(), parents)
    return np.array([fk[n] for n in UNITY_PARENTS])


def test_the_live_link_command_line_sends_the_chosen_subject_and_every_person_under_their_id(tmp_path):
    path, recorded = _record_people(tmp_path)
    reference = isolated_skeletons(recorded)
    with UdpReceiver() as receiver:
        run = subprocess.run([sys.executable, "-m", "realtime.bridges.livelink", "--session", str(path),
                              "--speed", "0", "--subject", "Actor", "--to", f"127.0.0.1:{receiver.port}"],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    docs = [json.loads(d) for d in receiver.datagrams]
    assert len(docs) == len(recorded)  # somebody is in every frame
    left = SCHEDULE[3].last
    for i, (doc, frame) in enumerate(zip(docs, recorded)):
        ids = [p.id for p in frame.people]
        want = {f"Actor_{pid}": pid for pid in ids}
        if i < left:
            want["Actor"] = 3
        elif i >= left + HOLD_FRAMES + 1:
            want["Actor"] = 8
        elif i < left + HOLD_FRAMES - 1:
            assert "Actor" not in doc  # the chosen person is missing: their subject holds its last pose
        if not left + HOLD_FRAMES - 1 <= i <= left + HOLD_FRAMES:  # (the hold's last frame is a tie)
            assert set(doc) == set(want), (i, sorted(doc))
        for subject, pid in want.items():
            if subject in doc:
                expected = 100 * reference[pid][i].positions @ SOLVER_TO_UNREAL.T
                assert np.abs(_livelink_positions(doc[subject]) - expected).max() < 0.1, (i, subject)  # cm


def test_people_coming_and_going_every_few_frames_never_break_a_bundle_or_a_datagram():
    from realtime.bridges.livelink import LiveLinkSender
    from tests.test_realtime.test_bridges.people_fixtures import churn_frames

    frames = churn_frames()
    assert len({p.id for f in frames for p in f.people}) >= 8
    with OscReceiver() as osc, UdpReceiver() as udp:
        vmc, livelink = VmcSender("127.0.0.1", osc.port), LiveLinkSender("127.0.0.1", udp.port)
        for frame in frames:
            vmc.consume(frame)
            livelink.consume(frame)
            time.sleep(0.001)
        vmc.close()
        livelink.close()
        bundles = osc.wait_for(len(frames))
    assert len(bundles) == len(frames)
    for bundle in bundles:
        ok, bones, root = _vmc_view(bundle)
        assert len(bones) == (19 if ok[3] else 0)
        if bones:
            np.testing.assert_allclose(np.linalg.norm([b[3:] for b in bones.values()], axis=1), 1.0, atol=1e-5)
    assert len(udp.datagrams) >= 0.8 * sum(1 for f in frames if f.people)
    for data in udp.datagrams:
        for subject, bones in json.loads(data).items():
            assert subject == "SemGCN" or subject.startswith("SemGCN_")
            assert [b["Name"] for b in bones][:2] == ["Root", "Hips"] and len(bones) == 20
