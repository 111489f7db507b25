"""``python -m tools.process``: clips to sessions and exports, in one process and on a real local Ray.

The clips are cut by the test from ../shared/media's pose_1.mp4; a corrupt file and a clip with nobody
in it go with them. Everything runs for real: the command line in its own process, ONNX Runtime, the
files, and a Ray started by the command (``--ray local``, two workers) whose worker the test kills.
Every process a test starts is ended by it, whatever happens.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.recording.session_reader import read_session
from tests.conftest import REPO

CLIPS = {"walk_a": (0, 24), "walk_b": (40, 64), "walk_c": (90, 114)}
CHUNKS = ["--chunk-frames", "8", "--overlap", "4"]  # three chunks per clip: stitching runs too
TIMEOUT_S = 240


@pytest.fixture(scope="module")
def clips(shared_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    cap = cv2.VideoCapture(str(shared_dir / "media" / "tfjs_models" / "pose_1.mp4"))
    frames = [cap.read()[1] for _ in range(120)]
    for name, (start, stop) in CLIPS.items():
        _write(folder / f"{name}.mp4", frames[start:stop])
    _write(folder / "nobody.mp4", [np.zeros_like(frames[0])] * 6)
    (folder / "broken.mp4").write_bytes(np.random.default_rng(0).bytes(20_000))
    return folder


def _write(path: Path, frames: list) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()


def _command(inputs: list[str], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tools.process", *inputs, "--out", str(out), "--no-progress", *CHUNKS, *extra]


def _run(inputs: list[str], out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_command(inputs, out, *extra), cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_S)


def _joints(session_path: Path) -> np.ndarray:
    return np.stack([f.joints_3d if f.has_person else np.full((16, 3), np.nan) for f in read_session(session_path).frames])


def _rows(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.splitlines() if line.split() and line.split()[0] in
            (*CLIPS, "broken", "nobody")}


def _descendants(root: int) -> dict[int, str]:
    """pid -> command line of every process below ``root`` (from /proc)."""
    parents, cmdlines = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdlines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found.update({pid: cmdlines.get(pid, "") for pid in frontier})
    return found


@pytest.fixture(scope="module")
def local_run(clips, tmp_path_factory):
    """The clips (and the two bad inputs) in one process."""
    out = tmp_path_factory.mktemp("local")
    run = _run([str(clips / "*.mp4")], out, "--to", "bvh,csv,json", "--summary-json", str(out / "summary.json"))
    return out, run


@pytest.fixture(scope="module")
def ray_run(clips, tmp_path_factory):
    """The same on a Ray started by the command (two workers, the code shipped to them), with one of its
    workers killed by the test while it runs a chunk: (out folder, completed process, the killed pid)."""
    pytest.importorskip("ray", reason="needs Ray: pip install -r requirements-ray.txt (.ci/run installs it)")
    out = tmp_path_factory.mktemp("ray")
    proc = subprocess.Popen(_command([str(clips / "*.mp4")], out, "--to", "bvh,csv,json", "--ray", "local", "--workers",
                                     "2", "--ship-code", "--summary-json", str(out / "summary.json")),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: list[int] = []

    def kill_a_worker_in_a_task():
        deadline = time.monotonic() + TIMEOUT_S
        while not killed and proc.poll() is None and time.monotonic() < deadline:
            busy = [pid for pid, cmd in _descendants(proc.pid).items() if cmd.startswith("ray::_chunk_task")]
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_in_a_task)
    killer.start()
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:  # never leave the run (and its Ray) behind
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        killer.join(timeout=10)
    return out, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), killed


def _summary(out: Path) -> dict[str, dict]:
    return {o["name"]: o for o in json.loads((out / "summary.json").read_text())}


def test_locally_and_on_two_ray_workers_the_outputs_are_the_same_and_bad_inputs_get_their_line(local_run, ray_run):
    (local, local_proc), (on_ray, ray_proc, _) = local_run, ray_run
    for run in (local_proc, ray_proc):
        rows = _rows(run.stdout)
        assert run.returncode == 1, run.stderr[-2000:]  # two inputs failed
        assert "cannot read video file" in rows["broken"] and "nobody found in 6 frames" in rows["nobody"]
        assert all(" done " in rows[name] for name in CLIPS), run.stdout
    for name in CLIPS:
        a, b = _joints(local / f"{name}.mcap"), _joints(on_ray / f"{name}.mcap")
        assert a.shape == (24, 16, 3) and np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)  # metres: 0.01 mm (bit-equal on one machine)
        for export in ("csv", "bvh"):
            assert (local / f"{name}.{export}").read_bytes() == (on_ray / f"{name}.{export}").read_bytes()
    workers = [w for name in CLIPS for w in _summary(on_ray)[name]["workers"]]
    assert len(workers) == 9 and all(w["loads"] == 1 for w in workers)  # the models once per worker process
    assert len({w["pid"] for w in workers}) < len(workers)               # ...and workers ran several tasks
    metadata = read_session(on_ray / "walk_a.mcap").metadata
    assert metadata["mode"] == "offline" and metadata["intrinsics"]["source"] == "assumed"
    assert metadata["chunks"]["count"] == 3 and metadata["bone_lengths"]["tracks"][0]["frames"] == 24


def test_a_killed_run_started_again_skips_what_it_finished(clips, tmp_path):
    out = tmp_path / "out"
    inputs = [str(clips / f"{name}.mp4") for name in CLIPS]
    first = out / "walk_a.mcap"
    proc = subprocess.Popen(_command(inputs, out, "--to", "csv"), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.kill()
    finally:
        proc.kill()
        proc.wait(timeout=30)
    stamp = first.stat().st_mtime_ns
    for session in out.glob("*.mcap"):  # whatever is under a final name is whole
        assert read_session(session).complete
    again = _run(inputs, out, "--to", "csv")
    rows = _rows(again.stdout)
    assert again.returncode == 0, again.stderr
    assert " skipped " in rows["walk_a"] and " done " in rows["walk_c"]
    assert first.stat().st_mtime_ns == stamp and not (out / ".incomplete").exists()
    assert all((out / f"{name}.csv").exists() and read_session(out / f"{name}.mcap").complete for name in CLIPS)


def test_a_ray_worker_killed_during_the_run_is_retried_and_every_output_is_written(ray_run):
    out, run, killed = ray_run
    assert killed, "no Ray worker was seen running a chunk"
    rows = _rows(run.stdout)
    assert all(" done " in rows[name] for name in CLIPS), run.stdout
    assert all((out / f"{name}.{ext}").exists() for name in CLIPS for ext in ("mcap", "bvh", "csv", "json"))
    workers = [w for name in CLIPS for w in _summary(out)[name]["workers"]]
    assert len(workers) == 9 and killed[0] not in {w["pid"] for w in workers}  # its chunk ran again elsewhere
    assert all(np.isfinite(_joints(out / f"{name}.mcap")).all() for name in CLIPS)
