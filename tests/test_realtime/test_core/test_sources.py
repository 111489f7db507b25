"""Capture sources on real files, folders and a real HTTP stream: order, drop counting, clear errors."""
from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.core.evaluation import GroundTruthSource
from realtime.core.sources import (DemoSource, EndOfStream, ImageFolderSource, SourceError, SourceOptions,
                                   VideoCaptureSource, open_source)

W, H = 96, 64


def _image(i: int) -> np.ndarray:
    """A frame whose brightness encodes its index (survives lossy codecs to within a few levels)."""
    return np.full((H, W, 3), 10 + 20 * i, np.uint8)


def _index_of(image: np.ndarray) -> int:
    return int(round((float(image.mean()) - 10) / 20))


@pytest.fixture
def video(tmp_path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (W, H))
    assert writer.isOpened()
    for i in range(12):
        writer.write(_image(i))
    writer.release()
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "images"
    d.mkdir()
    for i in range(10):
        cv2.imwrite(str(d / f"{i:03d}.png"), _image(i))
    return d


def _drain(source, timeout=5.0) -> list:
    frames = []
    deadline = time.monotonic() + timeout
    with pytest.raises(EndOfStream):
        while time.monotonic() < deadline:
            frame = source.get(timeout=0.5)
            if frame is not None:
                frames.append(frame)
        pytest.fail("source did not end")
    return frames


def _wait_finished(source, timeout=5.0) -> None:
    source._thread.join(timeout)
    assert not source._thread.is_alive()


def test_unpaced_video_hands_over_every_frame_in_order(video):
    source = open_source(str(video), SourceOptions(realtime=False)).start()
    frames = _drain(source)
    source.stop()
    assert isinstance(source, VideoCaptureSource) and source.frame_size == (W, H)
    assert [f.index for f in frames] == list(range(12))
    assert [_index_of(f.image) for f in frames] == list(range(12))
    assert source.dropped == 0 and source.captured == 12
    assert all(f.source == "clip.avi" for f in frames)
    assert source.camera_matrix is None and not isinstance(source, GroundTruthSource)  # a file knows neither
    assert all(b.t_capture >= a.t_capture for a, b in zip(frames, frames[1:]))
    # Stream time for temporal filters follows the file's 25 fps, however fast the frames were read.
    assert [f.timestamp for f in frames] == pytest.approx([i / 25.0 for i in range(12)])


def test_live_source_keeps_only_the_newest_frame_and_counts_the_rest(folder):
    # Paced (live) mode, and a consumer that takes nothing until the source has ended: every frame but
    # the last must have been replaced in the one-slot buffer and counted as dropped.
    source = open_source(str(folder), SourceOptions(realtime=True, fps=500.0)).start()
    _wait_finished(source)
    frames = _drain(source)
    assert isinstance(source, ImageFolderSource)
    assert [f.index for f in frames] == [9]
    assert _index_of(frames[0].image) == 9
    assert source.captured == 10 and source.dropped == 9
    assert source.stats()["dropped_at_source"] == 9


def test_unpaced_source_waits_for_the_consumer_instead_of_dropping(folder):
    source = open_source(str(folder), SourceOptions(realtime=False)).start()
    time.sleep(0.3)  # a slow consumer: the capture thread must wait, not overwrite
    frames = _drain(source)
    assert [f.index for f in frames] == list(range(10)) and source.dropped == 0


def test_looping_video_restarts_at_its_end(video):
    source = open_source(str(video), SourceOptions(realtime=False, loop=True)).start()
    frames = [source.get(timeout=2.0) for _ in range(20)]
    source.stop()
    assert [_index_of(f.image) for f in frames] == [i % 12 for i in range(20)]


def test_unreadable_images_are_skipped_and_counted(folder):
    (folder / "005b.png").write_bytes(b"not a png")
    source = open_source(str(folder), SourceOptions(realtime=False)).start()
    frames = _drain(source)
    assert len(frames) == 10 and source.skipped == 1
    assert source.stats()["unreadable_images"] == 1


def test_single_image_file_is_one_frame(folder):
    source = open_source(str(folder / "003.png"), SourceOptions(realtime=False)).start()
    frames = _drain(source)
    assert len(frames) == 1 and _index_of(frames[0].image) == 3


def test_http_stream_url_is_read(video):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(video.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a, **k: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{video.name}"
        source = open_source(url, SourceOptions())
        assert source.live and source.kind == "url"
        source.start()
        frame = source.get(timeout=5.0)
        source.stop()
        assert frame is not None and frame.image.shape == (H, W, 3)
    finally:
        server.shutdown()


@pytest.mark.parametrize("spec, words", [
    ("99", "cannot open webcam 99"),
    ("webcam:98", "cannot open webcam 98"),
    ("/no/such/clip.mp4", "no such file"),
    ("http://127.0.0.1:1/stream.mjpg", "cannot open network stream"),
    ("replay:x.mcap", "realtime.recording.replay"),
])
def test_bad_sources_raise_one_clear_line(spec, words):
    with pytest.raises(SourceError) as info:
        open_source(spec)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_garbage_video_and_empty_folder_are_clear_errors(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(SourceError, match="cannot read video file"):
        open_source(str(bad))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images"):
        open_source(str(empty))


def test_url_password_is_not_put_in_the_stream():
    with pytest.raises(SourceError) as info:
        open_source("rtsp://user:secret@127.0.0.1:1/cam")
    assert "secret" not in str(info.value)


def test_demo_source_keeps_the_ground_truth_of_its_frames():
    source = DemoSource(SourceOptions(realtime=False, width=320, height=240))
    assert source.frame_size == (320, 240) and source.camera_matrix.shape == (3, 3)
    assert isinstance(source, GroundTruthSource)
    source.start()
    frames = [source.get(timeout=10.0) for _ in range(3)]
    source.stop()
    assert [f.index for f in frames] == [0, 1, 2]
    for f in frames:
        assert f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8
        (truth,) = source.ground_truth(f.index)
        assert truth.joints_3d.shape == (16, 3) and truth.keypoints_2d.shape == (16, 2)
        assert np.all(np.isfinite(truth.joints_3d)) and truth.root_translation[2] > 1.0  # in front of the camera
    assert source.ground_truth(10_000) is None  # a frame it never made


def test_realtime_demo_renders_on_demand_and_counts_the_frames_it_skipped():
    source = DemoSource(SourceOptions(realtime=True, width=160, height=120, fps=30.0)).start()
    frames = []
    for _ in range(4):
        frames.append(source.get(timeout=10.0))
        time.sleep(0.2)  # a slow pipeline: the animation goes on in real time meanwhile
    source.stop()
    indices = [f.index for f in frames]
    assert indices == sorted(indices) and indices[-1] - indices[0] >= 12  # ~6 frames per 0.2 s at 30 fps
    assert source.captured <= len(frames) + 1  # nothing rendered only to be thrown away
    assert source.dropped >= indices[-1] + 1 - len(frames)
    assert [f.timestamp for f in frames] == pytest.approx([i / 30.0 for i in indices])  # animation time
