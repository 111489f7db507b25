"""tools/convert_blazepose.py without its tool-only dependencies, and the shipped models' NOTICE."""
import importlib.util

import pytest

from tools import convert_blazepose


def test_missing_tensorflow_gives_an_install_message(capsys):
    if importlib.util.find_spec("tensorflow") and importlib.util.find_spec("tf2onnx"):
        pytest.skip("tensorflow and tf2onnx are installed in this interpreter")
    with pytest.raises(SystemExit) as info:
        convert_blazepose.main(["--out-dir", "/tmp/never-written"])
    message = str(info.value.code)
    assert "SEPARATE venv" in message and "tf2onnx" in message and "tensorflow-cpu" in message


def test_shipped_models_match_their_notice():
    out = convert_blazepose.DEFAULT_OUT
    notice = (out / "NOTICE").read_text()
    assert "Apache License, Version 2.0" in notice and "tools.convert_blazepose" in notice
    for name in convert_blazepose.MODELS:
        path = out / name
        assert path.stat().st_size < 20 * 1024 * 1024
        assert f"{name}  sha256 {convert_blazepose.file_sha256(path)}" in notice
