"""The viewer's command line: snapshots from a live stream and a recorded session, and bad input."""
from __future__ import annotations

import subprocess
import sys

import pytest
import zmq

from tests.conftest import REPO
from tests.test_realtime.test_viewer.viewer_fixtures import (StreamingPublisher, bind_pub, classify, make_frame,
                                                             t_pose)


def test_cli_snapshot_from_a_live_stream(tmp_path):
    publisher = StreamingPublisher()
    publisher.start()
    out = tmp_path / "snap.png"
    try:
        result = subprocess.run([sys.executable, "-m", "realtime.viewer", "--connect", publisher.address,
                                 "--snapshot", str(out), "--timeout", "20", "--width", "320", "--height", "240",
                                 "--trail", "right_wrist", "--snapshot-delay", "0.3"],
                                cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        publisher.stop.set()
    assert result.returncode == 0, result.stderr
    import cv2

    image = cv2.imread(str(out))[..., ::-1]
    assert image.shape == (240, 320, 3)
    labels = [classify(p) for p in image[::2, ::2].reshape(-1, 3)]
    assert labels.count("left") > 5 and labels.count("right") > 5 and labels.count("centre") > 5


def test_cli_snapshot_without_a_publisher_says_so(tmp_path, capsys):
    from realtime.viewer.cli import EXIT_NO_FRAME, main

    with zmq.Context() as ctx:
        _, address = bind_pub(ctx)  # a port nobody publishes on once this socket closes
    code = main(["--connect", address, "--snapshot", str(tmp_path / "x.png"), "--timeout", "0.3"])
    assert code == EXIT_NO_FRAME
    assert "no frame from" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(SystemExit) as info:  # a malformed address is refused before anything starts
        main(["--connect", "tcp://no such host", "--snapshot", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--connect" in err and len(err.strip().splitlines()) == 1
    assert main(["--connect", "tcp://no-such-host.invalid:5555", "--snapshot", str(tmp_path / "x.png"),
                 "--timeout", "0.3"]) in (1, 2)  # well formed but unresolvable: ZeroMQ's error or no frame
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_snapshot_from_a_recorded_session(tmp_path, capsys):
    from realtime.recording.recorder import Recorder
    from realtime.viewer.cli import main

    path = tmp_path / "s.mcap"
    with Recorder(path, metadata={"source": "test"}) as recorder:
        recorder.consume(make_frame(0, None))
        for i in range(1, 30):
            frame = make_frame(i, t_pose())
            frame.t_capture = 1000.0 + i / 30
            recorder.consume(frame)
    out = tmp_path / "s.png"
    assert main(["--session", str(path), "--snapshot", str(out), "--width", "320", "--height", "240",
                 "--trail", "left_wrist"]) == 0
    assert "frame 1" in capsys.readouterr().out  # the first frame with a person
    import cv2

    labels = [classify(p) for p in cv2.imread(str(out))[::2, ::2, ::-1].reshape(-1, 3)]
    assert labels.count("left") > 5 and labels.count("right") > 5
    assert main(["--session", str(path), "--snapshot", str(out), "--frame", "99"]) == 1
    assert "outside" in capsys.readouterr().err
    broken = tmp_path / "broken.mcap"
    broken.write_bytes(b"this is not a session")
    assert main(["--session", str(broken), "--snapshot", str(out)]) == 1
    err = capsys.readouterr().err
    assert "cannot read session" in err and len(err.strip().splitlines()) == 1


def test_cli_live_mode_without_a_display_says_so(monkeypatch, capsys):
    from realtime.viewer.cli import main

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux (X11 / Wayland)")
    assert main(["--connect", "tcp://127.0.0.1:9"]) == 1
    assert "no display" in capsys.readouterr().err
