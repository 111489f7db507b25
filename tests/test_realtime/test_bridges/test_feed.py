"""The bridges' feed: frames from a real ZeroMQ stream (malformed messages counted, never fatal) and
from a recorded session (replayed at its pace), handed to a consumer that is closed at the end."""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from realtime.bridges.feed import add_feed_arguments, run_feed
from realtime.recording.recorder import Recorder
from realtime.stream.publisher import Publisher, PublisherOptions
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames


class Collect:
    name = "collect"

    def __init__(self):
        self.frames, self.closed = [], False

    def consume(self, result):
        self.frames.append(result)

    def close(self):
        self.closed = True


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_feed_arguments(parser)
    return parser.parse_args(argv)


def test_a_stream_feeds_every_valid_frame_and_counts_the_malformed_ones():
    frames = synthetic_frames(20)
    messages = encoded(frames)
    with Publisher(PublisherOptions(address="tcp://127.0.0.1:*")) as publisher:
        consumer, stop = Collect(), threading.Event()
        args = _args("--connect", publisher.address, "--max-frames", "20", "--timeout", "5")
        feeding = threading.Thread(target=lambda: setattr(consumer, "result", run_feed(consumer, args, stop)))
        feeding.start()
        assert publisher.wait_for_subscribers(1, 5.0)
        time.sleep(0.1)
        for i, parts in enumerate(messages):
            publisher.send(parts)
            if i == 5:
                publisher.send([b"pose", b"{broken"])
        feeding.join(10)
    assert not feeding.is_alive() and consumer.closed
    assert consumer.result.frames == 20 and consumer.result.malformed == 1
    assert [f.frame_index for f in consumer.frames] == list(range(20))
    np.testing.assert_array_equal(consumer.frames[3].joints_3d, frames[3].joints_3d)


def test_a_session_is_replayed_into_the_consumer_at_its_pace(tmp_path):
    frames = synthetic_frames(30)
    rec = Recorder(tmp_path / "s.mcap", {"source": "synthetic"})
    for parts in encoded(frames):
        rec.write(parts)
    rec.close()
    consumer = Collect()
    started = time.monotonic()
    result = run_feed(consumer, _args("--session", str(rec.path), "--speed", "4"), threading.Event())
    elapsed = time.monotonic() - started
    assert result.frames == 30 and consumer.closed and result.problems == ()
    assert elapsed >= 29 / 30 / 4 - 0.01  # paced: one second of recording at 4x speed
    assert [f.frame_index for f in consumer.frames] == list(range(30))
    assert all(f.header["replay"]["session"] == "s.mcap" for f in consumer.frames)


def test_a_multi_person_stream_feeds_every_person_with_their_id():
    from tests.test_realtime.test_bridges.people_fixtures import people_frames

    frames = people_frames(40)
    messages = encoded(frames)
    with Publisher(PublisherOptions(address="tcp://127.0.0.1:*")) as publisher:
        consumer, stop = Collect(), threading.Event()
        args = _args("--connect", publisher.address, "--max-frames", "40", "--timeout", "5")
        feeding = threading.Thread(target=lambda: setattr(consumer, "result", run_feed(consumer, args, stop)))
        feeding.start()
        assert publisher.wait_for_subscribers(1, 5.0)
        time.sleep(0.1)
        for parts in messages:
            publisher.send(parts)
            time.sleep(0.01)  # the publisher keeps 32 messages per subscriber: a burst of 40 could lose some
        feeding.join(10)
    assert consumer.result.frames == 40 and consumer.result.malformed == 0
    for got, sent in zip(consumer.frames, frames):
        assert got.wire_major == 2 and [p.id for p in got.people] == [p.id for p in sent.people]
        for mine, theirs in zip(got.people, sent.people):
            np.testing.assert_array_equal(mine.joints_3d, theirs.joints_3d)
            np.testing.assert_array_equal(mine.root_translation, theirs.root_translation)
