"""Several people offline: the demo's three crossing figures, an image folder, in one pass and in chunks."""
from __future__ import annotations

import collections
from dataclasses import replace

import cv2
import numpy as np

from realtime.batch.run import run_batch
from realtime.batch.settings import OfflineSettings
from realtime.core.sources import DemoSource, SourceOptions
from realtime.recording.session_reader import read_session


def _crowd_folder(folder, frames: int):
    source = DemoSource(SourceOptions(realtime=False, demo_people=3))
    source.start()
    try:
        for i in range(frames):
            cv2.imwrite(str(folder / f"{i:04d}.png"), source.get(timeout=30).image)
    finally:
        source.stop()


def _people(session) -> list[dict[int, np.ndarray]]:
    return [{p.id: p.keypoints_2d for p in f.people} for f in read_session(session).frames]


def test_three_people_keep_their_ids_across_chunk_borders_and_each_gets_a_track(tmp_path):
    (tmp_path / "crowd").mkdir()
    _crowd_folder(tmp_path / "crowd", 24)
    base = OfflineSettings(max_people=3, formats=("csv",))
    runs = {}
    for name, settings in (("one", replace(base, chunk_frames=0)), ("chunks", replace(base, chunk_frames=8, overlap=6))):
        [outcome] = run_batch([str(tmp_path / "crowd")], str(tmp_path / name), settings, show_progress=False)
        assert outcome.status == "done" and outcome.frames == 24, outcome.error
        runs[name] = outcome
    assert runs["chunks"].chunks == 3 and runs["one"].tracks == runs["chunks"].tracks == 3
    one, chunked = _people(tmp_path / "one" / "crowd.mcap"), _people(tmp_path / "chunks" / "crowd.mcap")
    assert max(len(f) for f in one) == 3
    pairs = collections.Counter()  # chunked id -> the one-pass id of the nearest person, frame by frame
    for a, b in zip(one, chunked):
        for pid, keypoints in b.items():
            pairs[(pid, min(a, key=lambda i: np.linalg.norm(a[i] - keypoints, axis=-1).mean()))] += 1
    assert len({chunked_id for chunked_id, _ in pairs}) == len(pairs)  # each chunked id is one person throughout
    meta = read_session(tmp_path / "chunks" / "crowd.mcap").metadata
    assert sorted(t["id"] for t in meta["bone_lengths"]["tracks"]) == [0, 1, 2]
