"""Recorder and session reader: exact round trip, crash safety (SIGKILL, disk full), damaged files."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from mcap.reader import make_reader
from mcap.writer import Writer

from realtime.recorder import Recorder, RecorderOptions, SessionError, read_session
from realtime.recording.session_format import message_to_parts
from realtime.stream.wire import encode
from tests.conftest import REPO
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def assert_same_frame(got, want):
    assert got.frame_index == want.frame_index
    assert got.t_capture == pytest.approx(want.t_capture, abs=1e-6)
    assert got.has_person == want.has_person
    if want.has_person:
        np.testing.assert_array_equal(got.joints_3d, want.joints_3d)
        np.testing.assert_array_equal(got.keypoints_2d, want.keypoints_2d)
        np.testing.assert_array_equal(got.confidence, want.confidence)


def record(path: Path, messages, **options) -> Path:
    rec = Recorder(path, {"source": "synthetic", "camera": {"fx": 600.0}}, options=RecorderOptions(**options))
    for parts in messages:
        rec.write(parts)
    rec.close()
    return rec.path


def test_round_trip_keeps_every_message_bit_for_bit(tmp_path):
    frames = synthetic_frames(120)
    messages = encoded(frames)
    rec = Recorder(tmp_path, {"source": "synthetic", "models": {"lifter": "semgcn v1"}})
    for parts in messages[:60]:
        rec.write(parts)
    rec.write([b"pose", b"{not json"])  # a malformed message is skipped, not recorded
    for parts in messages[60:]:
        rec.write(parts)
    rec.close()
    assert rec.rejected == 1 and rec.frames_written == 120 and rec.ok
    # the raw MCAP messages rebuild the exact stream messages (any MCAP reader sees a valid file)
    with open(rec.path, "rb") as handle:
        reader = make_reader(handle)
        summary = reader.get_summary()  # /pose holds the 120 frames; the Foxglove channels are beside it
        pose_channel = next(c.id for c in summary.channels.values() if c.topic == "/pose")
        assert summary.statistics.channel_message_counts[pose_channel] == 120
        raw = [message_to_parts(m.data) for _, _, m in reader.iter_messages(topics=["/pose"])]
    assert raw == messages
    session = read_session(rec.path)
    assert not session.truncated and session.problems == [] and session.end["frames"] == 120
    assert session.metadata["source"] == "synthetic" and session.metadata["models"] == {"lifter": "semgcn v1"}
    assert session.metadata["software_version"] and session.metadata["start_time"] > 1.6e9
    assert len(session.frames) == 120 and session.fps == pytest.approx(30.0, rel=1e-3)
    for got, want in zip(session.frames, frames):
        assert_same_frame(got, want)
    assert session.frames[5].header["timings_ms"] == {"detector": 9.5, "lifter": 1.25}


def _kill_run(tmp_path: Path, sig: int, seconds: float):
    """Stream live frames over a real PUB socket to a recorder subprocess and kill it with ``sig``."""
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.XPUB)  # a PUB that also tells when the subscriber has joined
    pub.setsockopt(zmq.LINGER, 0)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "realtime.recorder", "--connect", f"tcp://127.0.0.1:{port}",
                             "--out", str(tmp_path), "--quiet"], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert pub.poll(30000), "the recorder did not subscribe within 30 s"
        assert pub.recv() == b"\x01pose"
        sent = []
        template = synthetic_frames(int(seconds * 30) + 1)
        start = time.monotonic()
        for i, frame in enumerate(template):
            time.sleep(max(0.0, start + i / 30 - time.monotonic()))
            live = dataclasses.replace(frame, t_capture=time.time(), t_publish=time.time())
            pub.send_multipart(encode(live))
            sent.append(live)
        t_kill = time.time()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        pub.close()
    files = list(tmp_path.glob("*.mcap"))
    assert len(files) == 1, err
    return sent, t_kill, files[0], proc.returncode, err


def test_sigkill_loses_at_most_the_last_second(tmp_path):
    sent, t_kill, path, _, _ = _kill_run(tmp_path, signal.SIGKILL, seconds=3.0)
    session = read_session(path)
    assert session.truncated and "cut short" in session.problems[0]
    got = session.frames
    assert [f.frame_index for f in got] == list(range(len(got))), "not a gap-free prefix of what was sent"
    lost = sent[len(got):]
    assert all(f.t_capture > t_kill - 1.0 for f in lost), \
        f"lost {len(lost)} frames, the oldest sent {t_kill - lost[0].t_capture:.2f} s before the kill"
    for g, w in zip(got, sent):
        assert_same_frame(g, w)
    assert session.metadata["source"].startswith("stream tcp://127.0.0.1:")


def test_sigterm_closes_the_file_cleanly(tmp_path):
    sent, _, path, code, err = _kill_run(tmp_path, signal.SIGTERM, seconds=1.0)
    assert code == 0, err
    assert f"saved {len(sent)} frames" in err
    session = read_session(path)
    assert not session.truncated and len(session.frames) == len(sent)


_DISK_FULL_SCRIPT = """
import json, resource, signal, sys
from realtime.recorder import Recorder, RecorderOptions
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames
messages = encoded(synthetic_frames(3000))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG like ENOSPC
resource.setrlimit(resource.RLIMIT_FSIZE, (40000, 40000))
rec = Recorder(sys.argv[1], {"source": "synthetic"}, options=RecorderOptions(flush_interval_s=0.0))
raised = 0
for parts in messages:
    try:
        rec.write(parts)
    except OSError:  # RecordingError, raised once
        raised += 1
rec.close()
assert raised == 1, raised
print(json.dumps({"written": rec.frames_written, "on_disk": rec.frames_on_disk, "error": rec.error,
                  "path": str(rec.path)}))
"""


def test_write_error_stops_cleanly_and_keeps_the_prefix(tmp_path):
    out = subprocess.run([sys.executable, "-c", _DISK_FULL_SCRIPT, str(tmp_path)], cwd=REPO, env=ENV,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["error"] and "File too large" in result["error"] and "stays readable" in result["error"]
    assert 10 < result["written"] < 3000
    session = read_session(result["path"])
    assert session.truncated
    # every frame whose write succeeded was flushed (flush_interval 0): all of them are there, and the
    # error message tells how many
    assert len(session.frames) == result["written"] == result["on_disk"]
    assert f"with the {result['on_disk']} frames flushed before" in result["error"]
    for got, want in zip(session.frames, synthetic_frames(result["written"])):
        assert_same_frame(got, want)


@pytest.fixture(scope="module")
def good_session(tmp_path_factory) -> tuple[bytes, list]:
    frames = synthetic_frames(150)
    path = record(tmp_path_factory.mktemp("good") / "s.mcap", encoded(frames), chunk_size=4096)
    return path.read_bytes(), frames


def test_truncated_files_read_as_prefix_or_clear_error(tmp_path, good_session):
    data, frames = good_session
    cuts = sorted(set(np.linspace(0, len(data) - 1, 70).astype(int)) | {1, 8, 9, 20, 40})
    partial = 0
    for cut in cuts:
        path = tmp_path / f"cut{cut}.mcap"
        path.write_bytes(data[:cut])
        try:
            session = read_session(path)
        except SessionError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            continue
        partial += 1
        assert session.truncated and session.problems
        assert [f.frame_index for f in session.frames] == list(range(len(session.frames)))
        for got, want in zip(session.frames, frames):
            assert_same_frame(got, want)
    assert partial > 50  # most cuts keep a readable prefix


def test_corrupted_bytes_give_partial_read_or_clear_error(tmp_path, good_session):
    data, frames = good_session
    rng = np.random.default_rng(7)
    by_index = {f.frame_index: f for f in frames}
    start = time.monotonic()
    for trial in range(60):
        damaged = bytearray(data)
        for pos in rng.integers(0, len(data), rng.integers(1, 6)):
            damaged[pos : pos + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()[: len(damaged) - pos]
        path = tmp_path / f"bad{trial}.mcap"
        path.write_bytes(bytes(damaged))
        try:
            session = read_session(path)
        except SessionError as exc:
            assert "\n" not in str(exc)
            continue
        for got in session.frames:  # whatever is read is what was recorded (chunk CRCs)
            assert_same_frame(got, by_index[got.frame_index])
        if len(session.frames) < len(frames):
            assert session.truncated and session.problems
    assert time.monotonic() - start < 30


def test_files_that_are_not_sessions_get_one_clear_error(tmp_path):
    empty = tmp_path / "empty.mcap"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mcap"
    text.write_text("hello, this is not a recording\n")
    noise = tmp_path / "noise.mcap"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    foreign = tmp_path / "foreign.mcap"
    with open(foreign, "wb") as handle:  # a valid MCAP file from some other tool
        writer = Writer(handle)
        writer.start()
        channel = writer.register_channel("/chatter", "json", 0)
        writer.add_message(channel, 1, b"{}", 1)
        writer.finish()
    folder = tmp_path / "no_sessions_here"
    folder.mkdir()
    expected = {empty: "empty", text: "not an MCAP", noise: "not an MCAP", foreign: "no semgcn session",
                tmp_path / "missing.mcap": "cannot open", folder: "no session file"}
    for path, words in expected.items():
        with pytest.raises(SessionError) as info:
            read_session(path)
        assert words in str(info.value) and "\n" not in str(info.value)
        assert isinstance(info.value, ValueError)


def test_video_beside_the_session_lines_up_with_the_frames(tmp_path):
    frames = synthetic_frames(12)
    encoded(frames)
    rec = Recorder(tmp_path, {"source": "synthetic"}, video=True)
    for frame in frames:
        frame.image = np.full((48, 64, 3), 10 * frame.frame_index, dtype=np.uint8)
        rec.consume(frame)  # the pipeline's way: the pose and the camera image of each frame
    rec.close()
    session = read_session(rec.path)
    assert session.video_path == rec.video_path and session.video_path.is_file()
    assert [v["frame_index"] for v in session.video_frames] == list(range(12))
    assert [v["video_frame"] for v in session.video_frames] == list(range(12))
    assert _count_video_frames(session.video_path) == 12


def _count_video_frames(path) -> int:
    import cv2

    capture, count = cv2.VideoCapture(str(path)), 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


_VIDEO_KILL_SCRIPT = """
import os, signal, sys
import numpy as np
from realtime.recorder import Recorder
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames
frames = synthetic_frames(90)
rng = np.random.default_rng(0)  # camera-like noise: frames of realistic size, not a few bytes each
rec = Recorder(sys.argv[1], {"source": "synthetic"}, video=True)
encoded(frames)
for frame in frames:
    frame.image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    rec.consume(frame)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_video_of_a_killed_recorder_still_plays(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _VIDEO_KILL_SCRIPT, str(tmp_path)], cwd=REPO, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    videos = list(tmp_path.glob("*.mkv"))
    assert len(videos) == 1
    assert _count_video_frames(videos[0]) >= 45  # FFmpeg buffers the last ~1.5 s; the rest plays


_QUIET_SCRIPT = """
import sys, time
from realtime.recorder import Recorder
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames
rec = Recorder(sys.argv[1], {"source": "synthetic"})
for parts in encoded(synthetic_frames(10)):
    rec.write(parts)
print("written", flush=True)
time.sleep(60)  # the stream went quiet; the recorder is killed while waiting
"""


def test_frames_before_a_quiet_spell_survive_sigkill(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _QUIET_SCRIPT, str(tmp_path / "q.mcap")], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        time.sleep(1.0)  # longer than the flush interval: the background flush must have run
    finally:
        proc.kill()
        proc.wait(10)
    session = read_session(tmp_path / "q.mcap")
    assert session.truncated and [f.frame_index for f in session.frames] == list(range(10))


def test_version_2_frames_of_several_people_round_trip(tmp_path):
    from tests.test_realtime.test_stream.test_wire import _people_frame

    frames = []
    for i in range(5):
        frame = _people_frame(3 if i % 2 == 0 else 1)
        frame.frame_index, frame.t_capture, frame.t_publish = i, 1.7e9 + i / 30, 1.7e9 + i / 30 + 0.02
        frames.append(frame)
    rec = Recorder(tmp_path / "multi.mcap", {"source": "synthetic"})
    for frame in frames[:3]:
        rec.consume(frame)
    for frame in frames[3:]:
        rec.write(encode(frame))  # the command line's way: a message received from a stream
    rec.close()
    session = read_session(rec.path)
    assert session.complete and [len(f.people) for f in session.frames] == [3, 1, 3, 1, 3]
    for got, want in zip(session.frames, frames):
        assert [p.id for p in got.people] == [p.id for p in want.people] and got.wire_major == 2
        for a, b in zip(got.people, want.people):
            np.testing.assert_array_equal(a.joints_3d, b.joints_3d)
