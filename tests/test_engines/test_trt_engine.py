"""TensorRT engine helpers: everything up to the TensorRT call (TensorRT cannot run here)."""
from __future__ import annotations

import sys

import pytest

from engines import trt_engine
from engines.backends.lifter_tensorrt import MAX_BATCH, lifter_profile
from engines.trt_engine import (TensorRTUnavailable, TrtEngine, check_call, engine_cache_key, fp16_builder_flag,
                                import_tensorrt, plan_path, resolve_profiles)

PROFILE = {"keypoints": ((1, 16, 2), (1, 16, 2), (256, 16, 2))}
BASE = dict(model_sha256="a" * 64, gpu_name="NVIDIA GeForce RTX 3060", trt_version="10.3.0", fp16=True,
            profiles=PROFILE)


def test_cache_key_is_stable_and_changes_with_every_ingredient():
    key = engine_cache_key(**BASE)
    assert key == engine_cache_key(**dict(BASE)) and len(key) == 24
    changes = [
        {"model_sha256": "b" * 64},
        {"gpu_name": "NVIDIA H100 80GB HBM3"},
        {"trt_version": "10.4.0"},
        {"fp16": False},
        {"profiles": {"keypoints": ((1, 16, 2), (8, 16, 2), (256, 16, 2))}},
    ]
    keys = {engine_cache_key(**{**BASE, **c}) for c in changes}
    assert key not in keys and len(keys) == len(changes)


def test_plan_path_names_the_model_and_key(tmp_path):
    path = plan_path(tmp_path, "/x/semgcn_lifter.onnx", "abc123")
    assert path.parent == tmp_path and path.name == "semgcn_lifter-abc123.plan"


def test_profiles_fill_a_dynamic_batch_and_keep_static_inputs():
    got = resolve_profiles({"keypoints": (-1, 16, 2), "scale": (1,)}, default_batch=(1, 4, 64))
    assert got == {"keypoints": ((1, 16, 2), (4, 16, 2), (64, 16, 2)), "scale": ((1,), (1,), (1,))}
    assert resolve_profiles({"keypoints": (-1, 16, 2)}, lifter_profile()) == {
        "keypoints": ((1, 16, 2), (1, 16, 2), (MAX_BATCH, 16, 2))}


@pytest.mark.parametrize("inputs, shapes, match", [
    ({"keypoints": (-1, 16, 2)}, {"image": ((1,), (1,), (1,))}, "not inputs"),
    ({"keypoints": (-1, 16, 2)}, {"keypoints": ((1, 16, 2), (1, 16, 2))}, "min, opt, max"),
    ({"keypoints": (-1, 16, 2)}, {"keypoints": ((1, 17, 2), (1, 17, 2), (8, 17, 2))}, "fixed at 16"),
    ({"keypoints": (-1, 16, 2)}, {"keypoints": ((4, 16, 2), (2, 16, 2), (8, 16, 2))}, "min <= opt <= max"),
    ({"image": (-1, 3, -1, -1)}, None, "dynamic non-batch"),
])
def test_bad_profiles_are_explained(inputs, shapes, match):
    with pytest.raises(ValueError, match=match):
        resolve_profiles(inputs, shapes)


def test_missing_tensorrt_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(TensorRTUnavailable, match="pip install tensorrt cuda-python") as info:
        import_tensorrt()
    assert isinstance(info.value, ImportError)


def test_engine_needs_an_existing_onnx_file_before_anything_else(tmp_path):
    with pytest.raises(FileNotFoundError, match="ONNX model not found"):
        TrtEngine(tmp_path / "missing.onnx")


def test_engine_without_tensorrt_raises_the_install_hint(tmp_path, monkeypatch):
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"placeholder")
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(TensorRTUnavailable, match="NVIDIA GPU"):
        TrtEngine(onnx_file)


def test_check_call_unpacks_cuda_python_results():
    assert check_call((0, 1234)) == 1234
    assert check_call((0,)) is None
    assert check_call((0, "a", "b")) == ("a", "b")
    with pytest.raises(RuntimeError, match="CUDA error"):
        check_call((2, None))


def test_default_cache_dir_is_git_ignored():
    gitignore = (trt_engine.DEFAULT_CACHE_DIR.parent / ".gitignore").read_text()
    assert "/.trt_cache/" in gitignore and trt_engine.DEFAULT_CACHE_DIR.name == ".trt_cache"


def test_fp16_flag_on_tensorrt_10_and_its_absence_on_11():
    from types import SimpleNamespace

    trt10 = SimpleNamespace(__version__="10.3.0", BuilderFlag=SimpleNamespace(FP16="fp16-flag"))
    trt11 = SimpleNamespace(__version__="11.0.0", BuilderFlag=SimpleNamespace())
    assert fp16_builder_flag(trt10, True) == "fp16-flag"
    assert fp16_builder_flag(trt10, False) is None
    with pytest.warns(RuntimeWarning, match="no BuilderFlag.FP16"):
        assert fp16_builder_flag(trt11, True) is None
