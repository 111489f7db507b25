"""Hostile messages: property-based fuzzing of ``decode`` (only ``WireError`` may escape), and every
consumer's receive loop fed good frames interleaved with bad ones over a real socket keeps every
good frame: the subscriber, the viewer's receiver, a bridge's feed and the recorder in its own
process. (``python -m tools.fuzz_wire --examples 100000`` runs the long version.)"""
from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import threading
import time

from realtime.bridges.feed import add_feed_arguments, run_feed
from realtime.recording.session_reader import read_session
from realtime.stream.publisher import Publisher, PublisherOptions
from realtime.stream.subscriber import Subscriber
from realtime.stream.wire import WireError, decode
from realtime.viewer.receiver import StreamReceiver
from tests.conftest import REPO
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames
from tools.fuzz_wire import classify, mutate, real_messages, run_property


def test_no_exception_but_wire_error_escapes_decode_on_generated_messages():
    counts = run_property(1500)
    assert counts["escaped"] == 0 and counts["rejected"] > 1000  # most hostile messages are refused ...
    assert counts["accepted"] > 0                                # ... and harmless changes still pass


def test_messages_the_old_decoder_let_through_are_refused():
    message = real_messages()[1]
    big = [message[0], message[1].replace(b'"frame_index":1,', b'"frame_index":1e999,'), *message[2:]]
    nan = [message[0], message[1], *message[2:3], b"\x00\x00\xc0\x7f" * 32, *message[4:]]  # NaN joints
    deep = [message[0], b'{"schema":"semgcn.pose/1","x":' + b"[" * 5000 + b"]" * 5000 + b"}"]
    for parts in (big, nan, deep):
        assert classify(parts) == "rejected", parts[1][:80]


def _hostile(n: int) -> list[list[bytes]]:
    """Bad messages that reach a subscriber: on the stream's topic (ZeroMQ filters the others out before
    any consumer sees them) and with at least one part (ZeroMQ cannot send an empty message)."""
    rnd, base, out = random.Random(7), real_messages(), []
    while len(out) < n:
        parts = mutate(rnd.choice(base), rnd)
        if parts and parts[0].startswith(b"pose") and classify(parts) == "rejected":
            out.append(parts)
    return out


class _Collect:
    name = "collect"

    def __init__(self):
        self.frames = []

    def consume(self, result):
        self.frames.append(result.frame_index)

    def close(self):
        pass


def test_every_consumer_keeps_every_good_frame_among_bad_ones(tmp_path):
    good = encoded(synthetic_frames(40, empty_every=5))
    bad = _hostile(80)
    with Publisher(PublisherOptions(address="tcp://127.0.0.1:*", sndhwm=1000)) as publisher:
        out = tmp_path / "rec.mcap"
        recorder = subprocess.Popen([sys.executable, "-m", "realtime.recorder", "--connect", publisher.address,
                                     "--out", str(out), "--quiet"], cwd=REPO, stderr=subprocess.PIPE, text=True)
        try:
            subscriber, viewer = Subscriber(publisher.address, rcvhwm=1000), StreamReceiver(publisher.address)
            bridge, stop = _Collect(), threading.Event()
            parser = argparse.ArgumentParser()
            add_feed_arguments(parser)
            feed_args = parser.parse_args(["--connect", publisher.address])
            feeding = threading.Thread(target=lambda: setattr(bridge, "result", run_feed(bridge, feed_args, stop)))
            feeding.start()
            assert publisher.wait_for_subscribers(4, 20.0), "not every consumer connected"
            time.sleep(0.3)
            received, viewed, malformed = [], [], 0
            for i, parts in enumerate(good):
                publisher.send(parts)
                for hostile in bad[2 * i: 2 * i + 2]:
                    publisher.send(hostile)
                time.sleep(0.005)
                viewed += [f.frame_index for f in viewer.poll_all(timeout_s=0.0)]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (len(received) + malformed < len(good) + len(bad)
                                                   or len(viewed) + viewer.malformed < len(good) + len(bad)):
                try:
                    frame = subscriber.recv(timeout_ms=50)
                    if frame is not None:
                        received.append(frame.frame_index)
                except WireError:
                    malformed += 1
                viewed += [f.frame_index for f in viewer.poll_all(timeout_s=0.0)]
            time.sleep(0.5)
            stop.set()
            feeding.join(10)
            recorder.send_signal(signal.SIGTERM)
            _, err = recorder.communicate(timeout=30)
        finally:
            if recorder.poll() is None:
                recorder.kill()
            subscriber.close()
            viewer.close()
    want = [decode(p).frame_index for p in good]
    assert received == want and malformed == len(bad)
    assert viewed == want and viewer.malformed == len(bad)
    assert bridge.frames == want and bridge.result.malformed == len(bad)
    assert recorder.returncode == 0 and "Traceback" not in err, err
    session = read_session(out)
    assert session.complete and [f.frame_index for f in session.frames] == want
    assert f"{len(bad)} invalid messages skipped" in err
