"""tools.bridge_peers: the benchmark's receiving client subscribes to every channel of a real Foxglove
bridge (so the bridge encodes and sends each frame) and ends cleanly on SIGTERM."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("foxglove", reason="the Foxglove bridge needs foxglove-sdk (pip install -r requirements.txt)")

from realtime.bridges.foxglove_ws import FoxgloveBridge  # noqa: E402
from tests.test_realtime.test_recording.foxglove_fixtures import calibrated_frames  # noqa: E402
from tools.bridge_peers import start_peers, stop_peers  # noqa: E402


def test_a_foxglove_peer_subscribes_to_every_channel_and_stops_on_sigterm():
    bridge, peers = FoxgloveBridge(port=0), []
    try:
        peers = start_peers([bridge], timeout_s=60)
        assert len(peers) == 1 and bridge.server.subscribed == set(bridge.server.channels)
        for frame in calibrated_frames(20):
            bridge.consume(frame)
            time.sleep(0.01)
        assert bridge.frames == 20  # encoded and sent: somebody was watching
    finally:
        stop_peers(peers)
        bridge.close()
    assert [p.returncode for p in peers] == [0]
    assert not bridge.server._thread.is_alive()
