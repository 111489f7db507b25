"""The live Foxglove WebSocket server, with a real WebSocket client (the ``websockets`` library) speaking
subprotocol ``foxglove.websocket.v1``: handshake, serverInfo, advertise, subscribe, Message Data frames
that decode into valid scene messages; conformance with foxglove-sdk's own server; and run_live.py
--foxglove end to end."""
from __future__ import annotations

import asyncio
import base64
import json
import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("foxglove", reason="the Foxglove output needs foxglove-sdk (pip install -r requirements.txt)")
websockets = pytest.importorskip("websockets", reason="the Foxglove server needs websockets (requirements.txt)")

from realtime.bridges.foxglove_ws import FoxgloveBridge  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.test_realtime.test_recording.foxglove_fixtures import (calibrated_frames, check_schema, decode,  # noqa: E402
                                                                  message_class)

V1 = "foxglove.websocket.v1"


async def _session(url: str, want: int, subprotocol: str = V1, timeout_s: float = 30.0, before_subscribe=None):
    """Connect, read serverInfo and advertise, subscribe to every channel (subscription id = 100 +
    channel id) and collect ``want`` Message Data frames as ``(subscription id, timestamp, payload)``."""
    async with websockets.connect(url, subprotocols=[subprotocol], open_timeout=timeout_s) as ws:
        assert ws.subprotocol == subprotocol
        info, advertise = json.loads(await ws.recv()), json.loads(await ws.recv())
        if before_subscribe is not None:
            await before_subscribe(ws)
        await ws.send(json.dumps({"op": "subscribe", "subscriptions": [{"id": 100 + c["id"], "channelId": c["id"]}
                                                                       for c in advertise["channels"]]}))
        messages, texts = [], []
        deadline = time.monotonic() + timeout_s
        while len(messages) < want and time.monotonic() < deadline:
            frame = await asyncio.wait_for(ws.recv(), timeout=deadline - time.monotonic())
            if isinstance(frame, bytes):
                opcode, sub_id, stamp = struct.unpack_from("<BIQ", frame)
                assert opcode == 0x01  # Message Data
                messages.append((sub_id, stamp, frame[13:]))
            else:
                texts.append(json.loads(frame))
        return info, advertise, messages, texts


def _classes(advertise) -> dict[int, tuple[str, object]]:
    """Subscription id -> (schema name, protobuf class) from the advertised (base64) FileDescriptorSets."""
    out = {}
    for c in advertise["channels"]:
        assert (c["encoding"], c["schemaEncoding"]) == ("protobuf", "protobuf")
        out[100 + c["id"]] = (c["schemaName"], message_class(c["schemaName"], base64.b64decode(c["schema"])))
    return out


def _feed(bridge, frames, stop: threading.Event) -> threading.Thread:
    def run():
        while not stop.is_set():  # round and round, as a live stream would
            for frame in frames:
                if stop.is_set():
                    return
                bridge.consume(frame)
                time.sleep(0.005)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_websocket_client_subscribes_and_receives_valid_scene_messages():
    frames = calibrated_frames(26)
    by_stamp = {round(f.t_capture * 1e9): f for f in frames}
    bridge, stop = FoxgloveBridge(port=0), threading.Event()
    try:
        assert bridge.server.host == "127.0.0.1"
        bridge.consume(frames[0])
        assert bridge.frames == 0  # nobody subscribed: nothing encoded
        feeder = _feed(bridge, frames, stop)
        info, advertise, messages, _ = asyncio.run(_session(bridge.url, want=120))
    finally:
        stop.set()
        bridge.close()
    feeder.join(5)
    assert not bridge.server._thread.is_alive()
    assert info["op"] == "serverInfo" and info["capabilities"] == []
    assert {c["topic"]: c["schemaName"] for c in advertise["channels"]} == {
        "/semgcn/scene": "foxglove.SceneUpdate", "/semgcn/tf": "foxglove.FrameTransform"}
    classes = _classes(advertise)
    assert len(messages) >= 120
    scenes_with_person = deletions = 0
    for sub_id, stamp, payload in messages:
        name, cls = classes[sub_id]
        value = decode(cls, payload)
        check_schema(value, name)
        frame = by_stamp[stamp]  # the Message Data timestamp is the frame's capture time
        if name != "foxglove.SceneUpdate":
            continue
        if frame.people:
            centres = np.array([[s["pose"]["position"][k] for k in "xyz"] for s in value["entities"][0]["spheres"]])
            np.testing.assert_array_equal(centres, frame.person.joints_3d.astype(np.float64) + frame.person.root_translation)
            scenes_with_person += 1
        else:
            assert value["entities"] == [] and value["deletions"][0]["id"] == "person_0"
            deletions += 1
    assert scenes_with_person >= 30 and deletions >= 1


def test_a_client_without_the_subprotocol_is_refused_and_bad_requests_get_a_status_not_a_crash():
    frames = calibrated_frames(10)
    bridge, stop = FoxgloveBridge(port=0), threading.Event()

    async def misbehave(ws):
        await ws.send("{not json")
        await ws.send(json.dumps({"op": "subscribe", "subscriptions": [{"id": 1, "channelId": 99}]}))
        await ws.send(json.dumps({"op": "fetchAsset", "uri": "x", "requestId": 1}))
        await ws.send(b"\x01\x00")

    try:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            asyncio.run(_session(bridge.url, want=1, subprotocol="some.other.v1", timeout_s=5))
        assert refused.value.response.status_code == 400
        feeder = _feed(bridge, frames, stop)
        _, _, messages, texts = asyncio.run(_session(bridge.url, want=10, subprotocol="foxglove.sdk.v1",
                                                     before_subscribe=misbehave))
    finally:
        stop.set()
        bridge.close()
    feeder.join(5)
    assert len(messages) >= 10  # the same connection goes on serving
    assert [t["op"] for t in texts] == ["status"] * 4 and [t["level"] for t in texts] == [2, 1, 1, 2]


def test_advertisement_and_message_framing_are_those_of_foxglove_sdks_own_server():
    """The same channels and messages through foxglove-sdk's server (the reference implementation of the
    protocol, subprotocol foxglove.sdk.v1) and through ours: identical advertisements, identical frames."""
    import foxglove
    from foxglove.channels import FrameTransformChannel, SceneUpdateChannel

    from realtime.core.skeleton_scene import SceneBuilder
    from realtime.recording.foxglove_scene import frame_transform, scene_update

    frame = calibrated_frames(8)[7]
    skeleton = SceneBuilder("camera").build(frame)
    context = foxglove.Context()
    reference = foxglove.start_server(host="127.0.0.1", port=0, context=context)
    scene_channel = SceneUpdateChannel("/semgcn/scene", context=context)
    tf_channel = FrameTransformChannel("/semgcn/tf", context=context)
    ours, stop = FoxgloveBridge(port=0), threading.Event()

    def log_to_reference():
        while not stop.is_set():
            scene_channel.log(scene_update(skeleton), log_time=skeleton.stamp_ns)
            tf_channel.log(frame_transform(skeleton.transforms[0], skeleton.stamp_ns), log_time=skeleton.stamp_ns)
            time.sleep(0.01)

    feeder, logger = _feed(ours, [frame], stop), threading.Thread(target=log_to_reference, daemon=True)
    logger.start()
    try:
        _, our_adv, our_messages, _ = asyncio.run(_session(ours.url, want=6))
        _, sdk_adv, sdk_messages, _ = asyncio.run(_session(f"ws://127.0.0.1:{reference.port}", want=6,
                                                           subprotocol="foxglove.sdk.v1"))
    finally:
        stop.set()
        ours.close()
        reference.stop()
    feeder.join(5)
    logger.join(5)
    fields = ("topic", "encoding", "schemaName", "schemaEncoding", "schema")
    assert sorted(tuple(c[f] for f in fields) for c in our_adv["channels"]) == \
        sorted(tuple(c[f] for f in fields) for c in sdk_adv["channels"])

    def frames_by_topic(advertise, messages):
        topic = {100 + c["id"]: c["topic"] for c in advertise["channels"]}
        return {(topic[sub], stamp, payload) for sub, stamp, payload in messages}

    # Byte for byte the same (topic, timestamp, payload) frames; ours also sends world -> camera.
    assert frames_by_topic(sdk_adv, sdk_messages) <= frames_by_topic(our_adv, our_messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_live_foxglove_serves_the_live_skeleton():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "run_live.py"), "--source", "demo", "--headless",
                             "--max-frames", "90", "--foxglove", str(port), "--publish", f"tcp://127.0.0.1:{_free_port()}",
                             "--status-every", "0"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        messages, advertise = [], None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                _, advertise, messages, _ = asyncio.run(_session(f"ws://127.0.0.1:{port}", want=30, timeout_s=60))
                break
            except OSError:  # the server is not up yet (the models are loading)
                time.sleep(0.2)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert f"ws://127.0.0.1:{port}" in stderr and "stage foxglove" in stdout
    classes = _classes(advertise)
    scenes = [decode(classes[s][1], p) for s, _, p in messages if classes[s][0] == "foxglove.SceneUpdate"]
    assert len(scenes) >= 10
    people = [s["entities"][0] for s in scenes if s["entities"]]
    assert people and all(len(e["spheres"]) == 16 and e["frame_id"] == "camera_optical" for e in people)
