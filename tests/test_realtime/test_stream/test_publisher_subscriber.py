"""Publisher and subscriber over real ZeroMQ sockets on loopback (random free ports)."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import zmq

import realtime.stream.wire as wire
from realtime.stream.publisher import Publisher, PublisherError, PublisherOptions, is_loopback_address
from realtime.subscriber import Frame, FrameResult, Subscriber, WireError, csv_header, decode, iterate
from tests.conftest import REPO
from tests.frames import frame_with

ANY_PORT = "tcp://127.0.0.1:*"


def _frame(index: int, person: bool = True, seq: int | None = None) -> FrameResult:
    rng = np.random.default_rng(index)
    return frame_with(index, time.time(), rng.uniform(0, 480, (16, 2)), rng.uniform(0, 1, 16),
                      rng.normal(0, 0.3, (16, 3)) if person else None, seq=seq)


@pytest.fixture
def publisher():
    pub = Publisher(PublisherOptions(address=ANY_PORT))
    yield pub
    pub.close()


def _connected(publisher, **kwargs) -> Subscriber:
    sub = Subscriber(publisher.address, **kwargs)
    assert publisher.wait_for_subscribers(publisher.subscriptions + 1, timeout_s=5.0)
    return sub


def test_subscriber_module_reexports_the_wire_format():
    assert decode is wire.decode and Frame is FrameResult and WireError is wire.WireError


def test_frames_round_trip_with_and_without_a_person(publisher):
    assert publisher.address.startswith("tcp://127.0.0.1:") and not publisher.address.endswith("*")
    with _connected(publisher) as sub:
        sent = [_frame(0, seq=0), _frame(1, person=False, seq=1), _frame(2, seq=2)]
        for f in sent:
            assert publisher.consume(f)
        got = [sub.recv(timeout_ms=2000) for _ in sent]
    assert [g.frame_index for g in got] == [0, 1, 2]
    assert got[1].has_person is False and got[1].joints_3d is None
    np.testing.assert_array_equal(got[0].joints_3d, sent[0].joints_3d)
    np.testing.assert_array_equal(got[2].keypoints_2d, sent[2].keypoints_2d)
    assert got[0].header["seq"] == 0 and got[0].latency_s >= 0
    assert publisher.stats()["published"] == 3


def test_malformed_and_foreign_messages_do_not_stop_the_loop(publisher):
    valid = wire.encode(_frame(7))
    bad_header = [b"pose", b"{not json"]
    foreign = [b"pose", json.dumps({"schema": "other.thing/1"}).encode()]
    short_array = [valid[0], valid[1], valid[2][:-4], *valid[3:]]
    newer_major = [b"pose", valid[1].replace(b"semgcn.pose/1", b"semgcn.pose/3"), *valid[2:]]
    errors: list[str] = []
    with _connected(publisher) as sub:
        for parts in (bad_header, foreign, short_array, newer_major, [b"pose"], valid):
            publisher.send(parts)
        frames = list(iterate(sub, count=1, timeout_s=3.0, on_error=lambda e: errors.append(str(e))))
    assert [f.frame_index for f in frames] == [7]
    assert len(errors) == 5
    assert any("JSON" in e for e in errors) and any("foreign schema" in e for e in errors)
    assert any("bytes" in e for e in errors) and any("major version" in e for e in errors)


def test_conflating_subscriber_returns_the_newest_frame(publisher):
    with _connected(publisher, conflate=True) as sub:
        for i in range(10):
            publisher.send(wire.encode(_frame(i)))
        time.sleep(0.3)  # let all ten arrive in the subscriber's queue
        frame = sub.recv(timeout_ms=2000)
        assert frame.frame_index == 9 and sub.skipped == 9
        assert sub.recv(timeout_ms=100) is None


def test_a_stalled_subscriber_neither_blocks_nor_starves_the_others(publisher):
    stalled = _connected(publisher, rcvhwm=1)   # connected, never reads
    reader = _connected(publisher)
    payload = wire.encode(_frame(0))
    results = []

    def burst():
        results.extend(publisher.send(payload) for _ in range(20_000))
    thread = threading.Thread(target=burst)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "publisher.write blocked on a stalled subscriber"
    assert len(results) == 20_000 and all(results)
    # The reader got part of the burst (the rest was dropped at the high-water marks, not queued
    # without bound), and once it has caught up it still gets the live stream.
    burst_received = sum(1 for _ in iterate(reader, timeout_s=1.0))
    assert 0 < burst_received < 20_000
    publisher.send(wire.encode(_frame(12345)))
    assert reader.recv(timeout_ms=3000).frame_index == 12345
    stalled.close()
    reader.close()


def test_a_dead_subscriber_does_not_disturb_publishing(publisher):
    sub = _connected(publisher)
    sub.close()
    time.sleep(0.1)
    assert all(publisher.send(wire.encode(_frame(i))) for i in range(100))
    with _connected(publisher) as fresh:
        publisher.send(wire.encode(_frame(5)))
        assert fresh.recv(timeout_ms=2000).frame_index == 5


def test_publishing_on_every_interface_warns_and_loopback_does_not(caplog):
    with caplog.at_level("WARNING", logger="realtime.stream.publisher"):
        with Publisher(PublisherOptions(address="tcp://0.0.0.0:*")) as pub:
            assert not is_loopback_address(pub.address)
    assert "reachable from other machines" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="realtime.stream.publisher"):
        with Publisher(PublisherOptions(address=ANY_PORT)):
            pass
    assert caplog.text == ""
    for local in ("tcp://127.0.0.1:5555", "tcp://localhost:1", "tcp://[::1]:5555", "ipc:///tmp/x"):
        assert is_loopback_address(local), local
    for wider in ("tcp://192.168.1.4:5555", "tcp://*:5555", "tcp://127.example.com:5555"):
        assert not is_loopback_address(wider), wider


def test_a_port_in_use_is_a_clear_error(publisher):
    with pytest.raises(PublisherError, match="cannot publish on"):
        Publisher(PublisherOptions(address=publisher.address))


def test_wait_for_subscribers_times_out_without_any(publisher):
    assert publisher.wait_for_subscribers(1, timeout_s=0.2) is False


def test_subscriber_command_line_writes_csv_and_survives_garbage(publisher, tmp_path):
    out = tmp_path / "poses.csv"
    proc = subprocess.Popen([sys.executable, "-m", "realtime.subscriber", "--connect", publisher.address,
                             "--count", "3", "--csv", str(out), "--timeout", "20"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert publisher.wait_for_subscribers(1, timeout_s=20.0)
    publisher.send([b"pose", b"garbage"])
    for i in range(3):
        publisher.send(wire.encode(_frame(i, person=i != 1, seq=i)))
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "error: skipped a message" in stderr and "JSON" in stderr and "Traceback" not in stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == csv_header() and len(rows) == 4
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"] and [r[5] for r in rows[1:]] == ["1", "0", "1"]
    pelvis_x = rows[0].index("pelvis_x")
    assert rows[2][pelvis_x] == "" and float(rows[1][pelvis_x]) == pytest.approx(float(_frame(0).joints_3d[0, 0]), abs=1e-4)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_subscriber_csv_stopped_by_a_signal_keeps_whole_rows_and_says_how_many(publisher, tmp_path, sig):
    out = tmp_path / "poses.csv"
    proc = subprocess.Popen([sys.executable, "-m", "realtime.subscriber", "--connect", publisher.address,
                             "--csv", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert publisher.wait_for_subscribers(1, timeout_s=20.0)
        for i in range(200):  # a stream that is still running when the signal comes
            publisher.send(wire.encode(_frame(i, seq=i)))
            if i == 120:
                proc.send_signal(sig)
            time.sleep(0.002)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == csv_header() and len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows), "a row was cut in half"
    assert out.read_text().endswith("\n")
    assert f"received {len(rows) - 1} frames" in stderr  # the summary matches the file


def test_subscriber_command_line_prints_frames(publisher):
    proc = subprocess.Popen([sys.executable, "-m", "realtime.subscriber", "--connect", publisher.address,
                             "--count", "2", "--timeout", "20"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert publisher.wait_for_subscribers(1, timeout_s=20.0)
    publisher.send(wire.encode(_frame(0, seq=0)))
    publisher.send(wire.encode(_frame(1, person=False, seq=3)))  # as if 2 messages were lost
    stdout, stderr = proc.communicate(timeout=30)
    lines = stdout.strip().splitlines()
    assert proc.returncode == 0 and len(lines) == 2
    assert "person" in lines[0] and "nobody" in lines[1]
    assert "received 2 frames" in stderr and "missed 2 (seq gaps)" in stderr


def test_subscriber_command_line_fails_when_nothing_arrives():
    ctx = zmq.Context.instance()
    probe = ctx.socket(zmq.PUB)
    port = probe.bind_to_random_port("tcp://127.0.0.1")
    probe.close(0)
    proc = subprocess.run([sys.executable, "-m", "realtime.subscriber", "--connect", f"tcp://127.0.0.1:{port}",
                           "--count", "1", "--timeout", "0.5"], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "received 0 frames" in proc.stderr
