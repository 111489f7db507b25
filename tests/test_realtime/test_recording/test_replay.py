"""Replay of recorded sessions: over a real ZeroMQ socket, at the recorded pace, into a recorder."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import zmq

from realtime.recorder import Recorder, read_session
from realtime.recording.replay import replay_session
from realtime.stream.publisher import Publisher, PublisherOptions
from realtime.subscriber import decode
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames


class MemoryConsumer:
    """Keeps the frames it is given, with the arrival time."""

    def __init__(self):
        self.frames, self.times = [], []

    def consume(self, result):
        self.frames.append(result)
        self.times.append(time.monotonic())


@pytest.fixture(scope="module")
def session_path(tmp_path_factory):
    frames = synthetic_frames(60)
    messages = encoded(frames, latency=0.035)
    messages = [m for i, m in enumerate(messages) if i not in (20, 21)]  # the live pipeline dropped two
    rec = Recorder(tmp_path_factory.mktemp("rec") / "s.mcap", {"source": "synthetic"})
    for parts in messages:
        rec.write(parts)
    rec.close()
    return rec.path


def test_replay_over_zmq_gives_identical_joints_and_live_timestamps(session_path):
    recorded = read_session(session_path).frames
    publisher = Publisher(PublisherOptions(address="tcp://127.0.0.1:0"))
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"pose")
    sub.setsockopt(zmq.RCVHWM, 1000)
    sub.connect(publisher.address)
    try:
        assert publisher.wait_for_subscribers(1, 10.0)
        t0 = time.time()
        sent = replay_session(session_path, [publisher], speed=4.0)
        received = []
        while len(received) < sent and sub.poll(2000):
            received.append(decode(sub.recv_multipart()))
    finally:
        sub.close()
        publisher.close()
    assert sent == len(recorded) == 58 and len(received) == sent
    for got, want in zip(received, recorded):
        assert got.frame_index == want.frame_index
        np.testing.assert_array_equal(got.joints_3d, want.joints_3d)
        np.testing.assert_array_equal(got.keypoints_2d, want.keypoints_2d)
        np.testing.assert_array_equal(got.confidence, want.confidence)
        assert got.has_person == want.has_person
        # stamped as live: published now, with the recorded capture-to-publish latency
        assert t0 <= got.t_publish <= time.time()
        assert got.latency_s == pytest.approx(0.035, abs=1e-4)
        assert got.header["replay"]["t_capture_recorded"] == pytest.approx(want.t_capture)


def test_replay_keeps_the_recorded_pace_and_speed(session_path):
    frames = read_session(session_path).frames
    span = frames[-1].t_publish - frames[0].t_publish  # ~2 s of recording
    sink = MemoryConsumer()
    assert replay_session(session_path, [sink], speed=2.0) == len(frames)
    elapsed = np.array(sink.times) - sink.times[0]
    recorded = np.array([f.t_publish for f in frames]) - frames[0].t_publish
    # never early: every message leaves at (or after) its recorded offset / speed
    assert np.all(elapsed >= recorded / 2.0 - 0.005)
    assert elapsed[-1] >= span / 2.0 - 0.005
    fast = MemoryConsumer()
    start = time.monotonic()
    replay_session(session_path, [fast], speed=None)
    assert time.monotonic() - start < span / 4  # as fast as possible: far below the recorded time
    with pytest.raises(ValueError, match="speed"):
        replay_session(session_path, [fast], speed=0.0)


def test_stop_event_and_max_frames(session_path):
    sink = MemoryConsumer()
    assert replay_session(session_path, [sink], speed=None, max_frames=7) == 7
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    slow = MemoryConsumer()
    start = time.monotonic()
    sent = replay_session(session_path, [slow], speed=1.0, stop_event=stop)
    assert time.monotonic() - start < 1.5 and 0 < sent < 58


def test_replay_into_a_recorder_copies_the_session(session_path, tmp_path):
    rec = Recorder(tmp_path, {"source": f"replay:{session_path.name}"})
    replay_session(session_path, [rec], speed=None)
    rec.close()
    copy, original = read_session(tmp_path), read_session(session_path)  # a folder reads its newest session
    assert copy.path == rec.path
    assert [f.frame_index for f in copy.frames] == [f.frame_index for f in original.frames]
    for a, b in zip(copy.frames, original.frames):
        assert a.has_person == b.has_person
        if a.has_person:
            np.testing.assert_array_equal(a.joints_3d, b.joints_3d)


def test_a_session_of_several_people_replays_with_everybody_and_their_ids(tmp_path):
    from realtime.subscriber import Subscriber
    from tests.test_realtime.test_recording.session_fixtures import synthetic_people_frames

    frames = synthetic_people_frames(45)
    rec = Recorder(tmp_path / "people.mcap", {"source": "synthetic"})
    for parts in encoded(frames):
        rec.write(parts)
    rec.close()
    publisher = Publisher(PublisherOptions(address="tcp://127.0.0.1:0", sndhwm=1000))  # a burst: keep it all
    subscriber = Subscriber(publisher.address, rcvhwm=1000)
    try:
        assert publisher.wait_for_subscribers(1, 10.0)
        sent = replay_session(rec.path, [publisher], speed=None)
        received = []
        while len(received) < sent:
            frame = subscriber.recv(timeout_ms=2000)
            assert frame is not None, f"only {len(received)} of {sent} frames arrived"
            received.append(frame)
    finally:
        subscriber.close()
        publisher.close()
    assert sent == len(frames) and {len(f.people) for f in received} == {2, 3}  # person 5 leaves for a while
    for got, want in zip(received, frames):
        assert got.wire_major == 2 and got.frame_index == want.frame_index
        assert [p.id for p in got.people] == [p.id for p in want.people]
        for a, b in zip(got.people, want.people):
            np.testing.assert_array_equal(a.joints_3d, b.joints_3d)
            np.testing.assert_array_equal(a.root_translation, b.root_translation)
            np.testing.assert_array_equal(a.keypoints_2d, b.keypoints_2d)
