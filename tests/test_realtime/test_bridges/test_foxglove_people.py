"""The live Foxglove server with several people (semgcn.pose/2), read by a real WebSocket client speaking
foxglove.websocket.v1: one SceneEntity per person (``person_<id>``, on that person's joints), a
SceneEntityDeletion for who left while the others stay; in process and from the bridge's command line
playing a v2 session."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("foxglove", reason="the Foxglove output needs foxglove-sdk (pip install -r requirements.txt)")
pytest.importorskip("websockets", reason="the Foxglove server needs websockets (requirements.txt)")

from realtime.bridges.foxglove_ws import FoxgloveBridge  # noqa: E402
from realtime.recording.recorder import Recorder, RecorderOptions  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.test_realtime.test_bridges.people_fixtures import SCHEDULE, drawn_and_deleted, people_frames  # noqa: E402
from tests.test_realtime.test_bridges.test_foxglove_ws import _classes, _free_port, _session  # noqa: E402
from tests.test_realtime.test_recording.foxglove_fixtures import check_schema, decode  # noqa: E402


def _collect(url: str, want: int, out: dict, timeout_s: float = 60.0) -> threading.Thread:
    """A client session in a thread (it subscribes, then collects ``want`` messages into ``out``)."""
    def run():
        _, out["advertise"], out["messages"], _ = asyncio.run(_session(url, want=want, timeout_s=timeout_s))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _scenes(received: dict) -> list[dict]:
    classes = _classes(received["advertise"])
    scenes = []
    for sub_id, stamp, payload in received["messages"]:
        name, cls = classes[sub_id]
        value = decode(cls, payload)
        check_schema(value, name)
        if name == "foxglove.SceneUpdate":
            scenes.append((stamp, value))
    return scenes


def _centres(entity: dict) -> np.ndarray:
    return np.array([[s["pose"]["position"][k] for k in "xyz"] for s in entity["spheres"]])


def test_each_person_is_an_entity_of_their_own_and_who_leaves_is_deleted_while_the_others_stay():
    frames = people_frames()
    by_stamp = {round(f.t_capture * 1e9): f for f in frames}
    bridge, received = FoxgloveBridge(port=0), {}
    try:
        client = _collect(bridge.url, want=2 * len(frames), out=received)  # a scene and a transform per frame
        deadline = time.monotonic() + 30
        while len(bridge.server.subscribed) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        for frame in frames:
            bridge.consume(frame)
            time.sleep(0.005)
        client.join(60)
    finally:
        bridge.close()
    scenes = _scenes(received)
    assert len(scenes) == len(frames)
    for stamp, scene in scenes:
        frame = by_stamp[stamp]
        drawn, deleted = drawn_and_deleted(frame.frame_index)
        entities = {e["id"]: e for e in scene["entities"]}
        assert set(entities) == {f"person_{pid}" for pid in drawn}, frame.frame_index
        assert {d["id"] for d in scene["deletions"]} == {f"person_{pid}" for pid in deleted}, frame.frame_index
        for person in frame.people:
            np.testing.assert_array_equal(_centres(entities[f"person_{person.id}"]),
                                          person.joints_3d.astype(np.float64) + person.root_translation)


def test_the_bridge_command_serves_a_v2_session_with_an_entity_per_person(tmp_path):
    frames = people_frames()
    with Recorder(tmp_path / "people.mcap", {"source": "synthetic"}, options=RecorderOptions(foxglove=False)) as rec:
        for frame in frames:
            rec.consume(frame)
    owner = {}  # a person's joints -> their id (replay stamps frames as live: the joints say whose they are)
    for frame in frames:
        for person in frame.people:
            owner[(person.joints_3d.astype(np.float64) + person.root_translation).tobytes()] = person.id
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "realtime.bridges.foxglove_ws", "--session", str(rec.path),
                             "--speed", "1", "--foxglove", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    received = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and "messages" not in received:
            try:
                _, received["advertise"], received["messages"], _ = asyncio.run(
                    _session(f"ws://127.0.0.1:{port}", want=200, timeout_s=30))
            except OSError:  # the server is not up yet
                time.sleep(0.1)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    scenes = _scenes(received)
    assert len(scenes) == 100  # the 200 messages asked for: a scene and a transform per frame
    seen = set()
    for _, scene in scenes:
        for entity in scene["entities"]:
            pid = owner[_centres(entity).tobytes()]  # every entity sits on one recorded person's joints...
            assert entity["id"] == f"person_{pid}"   # ...and is named after that person
            seen.add(pid)
    assert seen == set(SCHEDULE)
    deleted = {d["id"] for _, scene in scenes for d in scene["deletions"]}
    assert deleted <= {"person_3", "person_12"} and deleted  # only people who left (8 stays to the end)
