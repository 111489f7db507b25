"""The VMC and Live Link bridges on their own command lines (a recorded session, a live stream), the
frames with nobody in them, and sends that never block or raise."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_server import BlockingOSCUDPServer
from scipy.spatial.transform import Rotation

from realtime.bridges.udp import UdpSender, parse_destination
from realtime.bridges.vmc import bundle
from realtime.core.skeleton_stage import SkeletonOptions, SkeletonStage
from realtime.recording.recorder import Recorder
from realtime.recording.session_reader import read_session
from realtime.stream.publisher import Publisher, PublisherOptions
from semgcn.solver.axes import SOLVER_TO_UNITY, SOLVER_TO_UNREAL
from tests.conftest import REPO
from tests.test_realtime.test_bridges.test_rig_outputs_e2e import UNITY_PARENTS, BundleDispatcher, _fk
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames


@pytest.mark.parametrize("text, want", [("39539", ("127.0.0.1", 39539)), ("localhost:1", ("localhost", 1)),
                                        ("10.0.0.2:54321", ("10.0.0.2", 54321)), ("[::1]:7", ("::1", 7)),
                                        ("myhost", ("myhost", 39539))])
def test_destinations_parse(text, want):
    assert parse_destination(text, 39539) == want


@pytest.mark.parametrize("text", ["0", "70000", "host:port", ":", "[::1]:x"])
def test_bad_destinations_say_what_is_expected(text):
    with pytest.raises(ValueError, match=r"\[HOST:\]PORT"):
        parse_destination(text, 39539)


def test_a_send_that_fails_is_dropped_and_counted_never_raised(caplog):
    sender = UdpSender("127.0.0.1", 9)
    assert not sender.sock.getblocking()
    assert sender.send(b"x" * 70000) is False  # larger than any datagram: the kernel refuses it
    assert sender.send(b"y" * 70000) is False
    assert sender.dropped == 2 and caplog.text.count("dropped a datagram") == 1
    sender.close()


def test_a_destination_off_this_machine_gets_a_warning(caplog):
    UdpSender("192.0.2.10", 39539).close()  # nothing is sent
    assert "off this machine" in caplog.text


def test_a_frame_with_nobody_says_tracking_lost_and_sends_no_bones():
    frames = synthetic_frames(3, empty_every=0)
    stage = SkeletonStage()
    for frame in frames:
        stage.process(frame)
    sent = OscBundle(bundle(frames[-1].person.skeleton, 1.5, tracking=False).dgram)
    messages = [(m.address, m.params) for m in sent]
    assert messages == [("/VMC/Ext/OK", [1, 2, 0, 0]), ("/VMC/Ext/T", [1.5])]
    never = OscBundle(bundle(None, 0.0, tracking=False).dgram)
    assert [m.params for m in never][0] == [0, 0, 0, 0]


def _record(tmp_path, frames):
    rec = Recorder(tmp_path / "s.mcap", {"source": "synthetic"})
    for parts in encoded(frames):
        rec.write(parts)
    rec.close()
    return rec.path


def test_the_vmc_bridge_plays_a_session_with_the_skeleton_it_solves(tmp_path):
    frames = synthetic_frames(50)  # every 13th frame has nobody; no landmarks: swing-only
    path = _record(tmp_path, frames)
    dispatcher = BundleDispatcher()
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    try:
        run = subprocess.run([sys.executable, "-m", "realtime.bridges.vmc", "--session", str(path), "--speed", "0",
                              "--to", f"127.0.0.1:{server.server_address[1]}"],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        time.sleep(0.3)
    finally:
        server.shutdown()
        server.server_close()
        serving.join(5)
    assert run.returncode == 0, run.stderr
    assert "sent 50 bundles" in run.stdout
    assert len(dispatcher.bundles) == 50
    stage = SkeletonStage(SkeletonOptions(publish=False))  # the same solve, here, for reference
    for frame, sent in zip(read_session(path).frames, dispatcher.bundles):
        stage.process(frame)
        by_address = {address: args for address, args in sent}
        bones = {args[0]: args[1:] for address, args in sent if address == "/VMC/Ext/Bone/Pos"}
        if not frame.has_person:
            assert by_address["/VMC/Ext/OK"][3] == 0 and not bones
            continue
        assert by_address["/VMC/Ext/OK"][3] == 1 and len(bones) == 19
        root = by_address["/VMC/Ext/Root/Pos"]
        fk = _fk({n: np.array(bones[n][:3]) for n in bones}, {n: Rotation.from_quat(bones[n][3:]) for n in bones},
                 np.array(root[1:4]), Rotation.from_quat(root[4:8]), UNITY_PARENTS)
        want = frame.person.skeleton.positions @ SOLVER_TO_UNITY.T
        error = max(np.linalg.norm(fk[n] - want[i]) for i, n in enumerate(UNITY_PARENTS))
        assert error < 1e-3


def test_the_live_link_bridge_follows_a_stream(tmp_path):
    frames = synthetic_frames(30, empty_every=0)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.5)
    with Publisher(PublisherOptions(address="tcp://127.0.0.1:*")) as publisher:
        bridge = subprocess.Popen([sys.executable, "-m", "realtime.bridges.livelink", "--connect", publisher.address,
                                   "--max-frames", "30", "--timeout", "20", "--subject", "Actor",
                                   "--to", f"127.0.0.1:{receiver.getsockname()[1]}"],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert publisher.wait_for_subscribers(1, 30.0)
            time.sleep(0.2)
            for parts in encoded(frames):
                publisher.send(parts)
                time.sleep(0.005)
            stdout, stderr = bridge.communicate(timeout=60)
        finally:
            if bridge.poll() is None:
                bridge.kill()
    docs = []
    try:
        while True:
            docs.append(json.loads(receiver.recv(1 << 16)))
    except socket.timeout:
        pass
    receiver.close()
    assert bridge.returncode == 0, stderr
    assert len(docs) == 30 and all(list(doc) == ["Actor"] for doc in docs)
    stage = SkeletonStage(SkeletonOptions(publish=False))
    for frame, doc in zip(frames, docs):
        frame.person.skeleton = None
        stage.process(frame)
        bones = doc["Actor"]
        names = [b["Name"] for b in bones]
        parents = {b["Name"]: None if b["Parent"] < 0 else names[b["Parent"]] for b in bones}
        fk = _fk({b["Name"]: np.array(b["Location"]) for b in bones},
                 {b["Name"]: Rotation.from_quat(b["Rotation"]) for b in bones}, np.zeros(3), Rotation.identity(),
                 parents)
        want = 100 * frame.person.skeleton.positions @ SOLVER_TO_UNREAL.T
        assert max(np.linalg.norm(fk[n] - want[i]) for i, n in enumerate(UNITY_PARENTS)) < 0.1  # cm
