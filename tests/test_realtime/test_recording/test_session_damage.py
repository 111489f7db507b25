"""Damaged session files: cut at every chunk boundary, bytes flipped in chunk headers and in the
metadata. The reader either returns every frame or says exactly which are missing (by sequence
number); it never returns a wrong frame and never a silent prefix."""
from __future__ import annotations

import numpy as np
import pytest
from mcap.reader import make_reader

from realtime.recorder import Recorder, RecorderOptions, read_session
from realtime.recording.session_reader import Session, SessionError
from tests.test_realtime.test_recording.session_fixtures import encoded, synthetic_frames

N = 100


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A closed session of N frames in small chunks, its bytes, and its chunk and metadata offsets."""
    frames = synthetic_frames(N, empty_every=0)
    rec = Recorder(tmp_path_factory.mktemp("good") / "s.mcap", {"source": "synthetic", "fps": 30},
                   options=RecorderOptions(chunk_size=2048))
    for parts in encoded(frames):
        rec.write(parts)
    rec.close()
    data = rec.path.read_bytes()
    with open(rec.path, "rb") as handle:
        summary = make_reader(handle).get_summary()
    chunks = sorted((c.chunk_start_offset, c.chunk_length) for c in summary.chunk_indexes)
    metadata = {m.name: (m.offset, m.length) for m in summary.metadata_indexes}
    assert len(chunks) >= 10, "the fixture must span many chunks"
    return frames, data, chunks, metadata


def _read(tmp_path, data: bytes) -> Session:
    path = tmp_path / "damaged.mcap"
    path.write_bytes(data)
    return read_session(path)


def _assert_accounted_for(session: Session, frames) -> None:
    """Every returned frame is the recorded one; every other one is listed as missing; nothing silent."""
    returned = set()
    for got in session.frames:
        want = frames[got.frame_index]  # frame_index == sequence number in this recording
        np.testing.assert_array_equal(got.joints_3d, want.joints_3d)
        assert got.t_capture == pytest.approx(want.t_capture)
        returned.add(got.frame_index)
    reported = set()
    for first, last in session.missing:
        reported |= set(range(first, N if last is None else last + 1))
    assert not returned & reported, "a returned frame is also reported missing"
    assert returned | reported >= set(range(N)), f"frames lost silently: {sorted(set(range(N)) - returned - reported)[:10]}"
    if len(returned) < N:
        assert not session.complete and session.problems and "missing" in session.loss_report()


def test_the_intact_file_reads_complete(recording, tmp_path):
    frames, data, _, _ = recording
    session = _read(tmp_path, data)
    assert session.complete and session.missing == [] and len(session.frames) == N
    assert session.expected_frames == N and session.problems == []


def test_a_cut_at_every_chunk_boundary_gives_a_prefix_and_says_what_follows_is_missing(recording, tmp_path):
    frames, data, chunks, _ = recording
    for start, length in chunks:
        for cut in (start, start + length):
            session = _read(tmp_path, data[:cut])
            _assert_accounted_for(session, frames)
            assert not session.complete
            got = [f.frame_index for f in session.frames]
            assert got == list(range(len(got))), "not a prefix"
            if len(got) < N:  # everything from the cut on; a closed range once the end record is in the prefix
                assert session.missing[-1] in ((len(got), None), (len(got), N - 1))
            elif session.end is None:  # every frame, but no end record to say that nothing followed
                assert session.missing == [(N, None)]
            else:  # the end record and every frame made it: only the file's index is gone
                assert session.missing == [] and session.expected_frames == N


def test_flipped_chunk_header_bytes_lose_at_most_their_chunk_and_say_so(recording, tmp_path):
    frames, data, chunks, _ = recording
    rng = np.random.default_rng(0)
    # The first and a middle chunk: every byte of the record head (opcode, length) and of the
    # chunk fields before its records (times, sizes, CRC, compression), and random bytes of the others.
    header_bytes = 9 + 8 + 8 + 8 + 4 + 4 + len("zstd") + 8
    spots = [start + i for start, _ in (chunks[0], chunks[len(chunks) // 2]) for i in range(header_bytes)]
    spots += [int(start + rng.integers(0, header_bytes)) for start, _ in chunks[1:]]
    for spot in spots:
        damaged = bytearray(data)
        damaged[spot] ^= 0xFF
        session = _read(tmp_path, bytes(damaged))
        _assert_accounted_for(session, frames)


def test_flipped_metadata_bytes_are_reported_and_the_frames_survive(recording, tmp_path):
    frames, data, _, metadata = recording
    intact = _read(tmp_path, data).metadata
    offset, length = metadata["semgcn.session"]
    rng = np.random.default_rng(1)
    # Every byte of the record's head (opcode, length, name) and of its first entries, and a sample of the rest.
    spots = list(range(offset, offset + 48)) + sorted(rng.choice(np.arange(offset + 48, offset + length), 40, False))
    for spot in spots:
        damaged = bytearray(data)
        damaged[spot] ^= 0x01
        try:
            session = _read(tmp_path, bytes(damaged))
        except SessionError:
            pytest.fail(f"a flip in the metadata at byte {spot} lost the whole session")
        _assert_accounted_for(session, frames)
        assert len(session.frames) == N  # the frames do not depend on the metadata
        # Reported, or harmless: a flip in a length field the MCAP reader does not rely on reads back
        # the very metadata that was written.
        assert not session.complete or session.metadata == intact, f"damaged metadata at byte {spot} passed unreported"
