"""run_live.py with several people, end to end: ``--demo-people 3 --max-people 3`` streams
``semgcn.pose/2`` with a list of people; the default (one person) stays ``semgcn.pose/1``, and the
README's 15-line pyzmq subscriber, run as written, reads the one and skips the other."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np

from realtime.subscriber import Subscriber, iterate
from tests.conftest import REPO
from tests.test_realtime.test_app.test_run_live_e2e import RUN_LIVE, _free_address, running


def _readme_subscriber(address: str) -> str:
    """The README's subscriber, exactly as printed there, connected to ``address``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "sock.recv_multipart()" in b]
    assert len(blocks) == 1, "the README has one pyzmq subscriber example"
    code = blocks[0]
    assert len(code.strip().splitlines()) <= 16
    return code.replace("tcp://127.0.0.1:5555", address)


def _run_with_readme_subscriber(address: str, *args: str, frames: int) -> tuple[list[str], str]:
    """run_live.py streaming ``frames`` frames to the README subscriber; the lines that subscriber printed."""
    code = _readme_subscriber(address)
    reader = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        live = subprocess.run([*RUN_LIVE, "--source", "demo", "--headless", "--max-frames", str(frames), "--publish",
                               address, "--no-realtime", "--wait-subscribers", "1", "--wait-timeout", "60",
                               "--status-every", "0", *args], cwd=REPO, capture_output=True, text=True, timeout=240)
    finally:
        reader.kill()
        out, err = reader.communicate(timeout=30)
    assert live.returncode == 0, live.stderr
    assert "Traceback" not in err, err
    return out.splitlines(), live.stdout


def test_the_readme_subscriber_reads_the_default_one_person_stream():
    lines, _ = _run_with_readme_subscriber(_free_address(), frames=15)
    # A late-joining reader may miss the first frame or two; each line is frame, latency, a wrist.
    assert len(lines) >= 10, lines
    first = lines[-1].split(maxsplit=2)
    assert int(first[0]) < 15 and float(first[1]) > 0 and "[" in first[2]


def test_the_readme_subscriber_skips_a_version_2_stream_without_failing():
    lines, _ = _run_with_readme_subscriber(_free_address(), "--demo-people", "2", "--max-people", "2", frames=10)
    assert lines == []


def test_three_figures_stream_three_people_with_ids_apart_in_the_world(tmp_path):
    n = 45
    address = _free_address()
    summary_path = tmp_path / "summary.json"
    with Subscriber(address) as sub, running(
            "--source", "demo", "--demo-people", "3", "--max-people", "3", "--headless", "--max-frames", str(n),
            "--publish", address, "--no-realtime", "--wait-subscribers", "1", "--wait-timeout", "60",
            "--status-every", "0", "--summary-json", str(summary_path)) as proc:
        frames = list(iterate(sub, count=n, timeout_s=240.0))
        stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr
    assert len(frames) == n and all(f.wire_major == 2 for f in frames)
    assert all(json.loads(json.dumps(f.header))["schema"] == "semgcn.pose/2" for f in frames)
    settled = frames[10:]  # the first frames find the people
    counts = [len(f.people) for f in settled]
    assert np.median(counts) >= 2, counts  # a figure hidden behind a nearer one is not found
    for frame in settled:
        ids = [p.id for p in frame.people]
        assert len(set(ids)) == len(ids)
        for person in frame.people:
            assert person.joints_3d.shape == (16, 3) and np.isfinite(person.joints_3d).all()
            assert person.keypoints_2d.shape == (16, 2) and person.confidence.shape == (16,)
        roots = [p.root_translation for p in frame.people]
        assert all(r is not None for r in roots)  # the demo knows its camera: absolute positions per person
        for i in range(len(roots)):
            for j in range(i):
                assert np.linalg.norm(roots[i] - roots[j]) > 0.2  # people stand apart, not all at one origin
        np.testing.assert_array_equal(frame.joints_3d, frame.people[0].joints_3d)  # old code: the first person
    summary = json.loads(summary_path.read_text())
    assert set(summary["people"]) == {"0", "1", "2"}
    assert "figure 0: found in" in stdout
