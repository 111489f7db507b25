"""Inputs of a batch run: what the arguments name, the outputs' names, resuming, and reading by chunk."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.batch.frames import Chunk, InputError, plan_chunks, probe, read_frames
from realtime.batch.jobs import INCOMPLETE, expand_inputs


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_arguments_become_jobs_named_after_their_inputs(tmp_path):
    _touch(tmp_path / "a" / "clip.mp4")
    _touch(tmp_path / "b" / "clip.mp4")
    _touch(tmp_path / "videos" / "one.mov")
    _touch(tmp_path / "videos" / "notes.txt")
    (tmp_path / "shots").mkdir()
    cv2.imwrite(str(tmp_path / "shots" / "0001.png"), np.zeros((8, 8, 3), np.uint8))
    jobs, missing = expand_inputs([str(tmp_path / "*" / "clip.mp4"), str(tmp_path / "videos"), str(tmp_path / "shots"),
                                   str(tmp_path / "nothing.mp4"), str(tmp_path / "*.avi")], str(tmp_path / "out"))
    names = [j.name for j in jobs]
    assert names[2:] == ["one", "shots"]
    assert names[0].startswith("clip-") and names[1].startswith("clip-") and names[0] != names[1]  # a stable hash each
    assert [m.status for m in missing] == ["failed", "failed"]
    assert "no such file" in missing[0].error and "no file matches" in missing[1].error
    again, _ = expand_inputs([str(tmp_path / "*" / "clip.mp4")], str(tmp_path / "out"))
    assert [j.name for j in again] == names[:2]


def test_a_job_is_done_only_when_every_output_is_there_and_stale_scratch_goes(tmp_path):
    jobs, _ = expand_inputs([str(_touch(tmp_path / "clip.mp4"))], str(tmp_path / "out"))
    job = jobs[0]
    outputs = job.outputs(("bvh", "ros2bag"))
    assert [p.name for p in outputs.values()] == ["clip.mcap", "clip.bvh", "clip_ros2bag"]
    _touch(outputs["session"])
    _touch(outputs["bvh"])
    assert not job.done(("bvh", "ros2bag")) and job.done(("bvh",))
    stale = _touch(tmp_path / "out" / INCOMPLETE / "clip-0123" / "clip.mcap")
    other = _touch(tmp_path / "out" / INCOMPLETE / "clips-0123" / "clips.mcap")
    job.clear_incomplete()
    assert not stale.exists() and other.exists()


def test_unreadable_inputs_say_why_in_one_line(tmp_path):
    broken = _touch(tmp_path / "broken.mp4", np.random.default_rng(0).bytes(5000))
    (tmp_path / "empty").mkdir()
    for path, words in ((broken, "cannot read video file"), (tmp_path / "empty", "no images"),
                        (tmp_path / "gone.mp4", "no such file")):
        with pytest.raises(InputError) as info:
            probe(path)
        assert words in str(info.value) and "\n" not in str(info.value)


def test_a_chunk_reads_exactly_its_frames(shared_dir):
    video = shared_dir / "media" / "tfjs_models" / "pose_1.mp4"
    info = probe(video)
    assert (info.kind, info.frame_count, info.fps, info.frame_size) == ("video", 120, 30.0, (576, 576))
    cap = cv2.VideoCapture(str(video))
    every = [cap.read()[1] for _ in range(info.frame_count)]
    chunks = plan_chunks(info.frame_count, 40, 10)
    for chunk in chunks:
        frames = list(read_frames(info, chunk))
        assert [f.index for f in frames] == list(range(chunk.read_from, chunk.stop or info.frame_count))
        assert all(np.array_equal(f.image, every[f.index]) for f in frames)
        assert all(f.media_time == f.index / 30.0 and f.t_capture == info.start_time + f.media_time for f in frames)
    assert info.start_time == int(video.stat().st_mtime)
    assert len(list(read_frames(info, Chunk(0, 0, None, 0)))) == 120
