"""The public Lifter: real ONNX Runtime sessions and a real torch backend on a model exported here."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from engines.lifter import DEFAULT_ONNX, Lifter
from engines.trt_engine import TensorRTUnavailable
from semgcn.codec import default_intrinsics, flip_average, flip_inputs, normalize_2d
from semgcn.export import export_onnx
from semgcn.layers import SemGraphConv
from semgcn.checkpoint import save_checkpoint
from semgcn.models import build_model


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A SemGCN with non-trivial weights, as ONNX and as a checkpoint."""
    torch.manual_seed(0)
    model = build_model("semgcn")
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, SemGraphConv):
                layer.e.normal_(0.0, 1.0)
    model.eval()
    folder = tmp_path_factory.mktemp("lifter")
    export_onnx(model, folder / "lifter.onnx", dynamo=False)
    save_checkpoint(folder / "lifter.pt", model)
    return model, folder / "lifter.onnx", folder / "lifter.pt"


@pytest.fixture(scope="module")
def lifter(model_files):
    return Lifter(model_path=model_files[1], threads=1)


def _poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.uniform(200, 440, size=(n, 1, 2))
    return base + rng.normal(scale=60.0, size=(n, 16, 2))


def test_matches_the_pytorch_model_on_the_codec_input(model_files, lifter):
    model = model_files[0]
    kp = _poses(6)
    plain = Lifter(model_path=model_files[1], threads=1, flip_test=False)
    out = plain.predict(kp, image_size=(640, 480), focal=500.0)
    x = normalize_2d(kp, (640, 480), 500.0)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
        both = model(torch.from_numpy(np.concatenate([x, flip_inputs(x)]))).numpy()
    ref = ref - ref[:, :1]
    assert out.dtype == np.float32 and out.shape == (6, 16, 3)
    np.testing.assert_allclose(out, ref, atol=1e-4)
    assert np.all(out[:, 0] == 0.0)                      # pelvis exactly at the origin
    # The default: test-time flip, the mean of the pose and of its mirror image's, mirrored back.
    flipped = flip_average(both)
    np.testing.assert_allclose(lifter.predict(kp, image_size=(640, 480), focal=500.0), flipped - flipped[:, :1],
                               atol=1e-4)
    assert np.abs(flipped - ref).max() > 1e-3           # (a random model is not mirror-symmetric)


def test_single_pose_in_single_pose_out(lifter):
    kp = _poses(3)
    batch = lifter.predict(kp, image_size=(640, 480))
    one = lifter.predict(kp[1], image_size=(640, 480))
    assert one.shape == (16, 3)
    np.testing.assert_allclose(one, batch[1], atol=1e-5)
    assert lifter.predict(kp[:1], image_size=(640, 480)).shape == (1, 16, 3)
    assert lifter.predict(np.zeros((0, 16, 2)), image_size=(640, 480)).shape == (0, 16, 3)


def test_lost_joints_are_lifted_as_collapsed_bones(lifter):
    from semgcn.codec import prepare_keypoints

    kp = _poses(1)[0]
    filled = kp.copy()
    filled[12] = filled[11]                              # left wrist onto the left elbow
    with_nan = kp.copy()
    with_nan[12] = np.nan
    prepared, confidence = prepare_keypoints(with_nan, np.ones(16))
    got = lifter.predict(prepared, image_size=(640, 480))
    np.testing.assert_allclose(got, lifter.predict(filled, image_size=(640, 480)), atol=1e-5)
    assert confidence[12] == 0
    with pytest.raises(ValueError, match="NaN"):         # the lifter itself takes finite keypoints only
        lifter.predict(with_nan, image_size=(640, 480))


def test_per_pose_cameras_equal_one_call_per_pose(lifter):
    kp = _poses(3, seed=1)
    sizes = np.array([[640, 480], [1280, 720], [1920, 1080]])
    focal = np.array([500.0, 900.0, 1400.0])
    center = np.array([[320.0, 240.0], [600.0, 380.0], [960.0, 540.0]])
    batch = lifter.predict(kp, image_size=sizes, focal=focal, center=center)
    for i in range(3):
        one = lifter.predict(kp[i], image_size=tuple(sizes[i]), focal=focal[i], center=center[i])
        np.testing.assert_allclose(batch[i], one, atol=1e-5)
    # default intrinsics == passing them explicitly
    f, c = default_intrinsics((1280, 720))
    np.testing.assert_allclose(lifter.predict(kp, (1280, 720)), lifter.predict(kp, (1280, 720), focal=f, center=c),
                               atol=1e-6)


def test_distance_does_not_change_the_pose(lifter):
    kp = _poses(2, seed=2)
    c = np.array([320.0, 240.0])
    near = lifter.predict(kp, (640, 480), focal=500.0, center=c)
    far = lifter.predict(c + 0.5 * (kp - c), (640, 480), focal=500.0, center=c)
    np.testing.assert_allclose(near, far, atol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (np.full((16, 2), np.nan), "NaN"),
    (np.zeros((15, 2)), "shape"),
    (np.zeros((2, 16, 3)), "shape"),
    (np.array([["a", "b"]] * 16), "numbers"),
    (np.full((16, 2), 100.0), "one point"),
])
def test_malformed_keypoints_raise_value_error(lifter, bad, match):
    with pytest.raises(ValueError, match=match):
        lifter.predict(bad, image_size=(640, 480))


@pytest.mark.parametrize("kwargs, match", [
    ({"image_size": (640, -1)}, "image_size"),
    ({"image_size": (640, 480, 3)}, "image_size"),
    ({"image_size": (640, 480), "focal": 0.0}, "focal"),
    ({"image_size": (640, 480), "focal": [500.0, 600.0, 700.0]}, "focal"),
    ({"image_size": (640, 480), "center": (np.nan, 3.0)}, "center"),
    ({"image_size": "640x480"}, "image_size"),
])
def test_malformed_camera_raises_value_error(lifter, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lifter.predict(_poses(2), **kwargs)


def test_torch_backend_agrees_with_onnxruntime(model_files, lifter):
    torch_lifter = Lifter(backend="torch", model_path=model_files[2])
    kp = _poses(5, seed=3)
    np.testing.assert_allclose(torch_lifter.predict(kp, (1280, 720)), lifter.predict(kp, (1280, 720)), atol=1e-4)
    assert torch_lifter.info.backend == "torch" and torch_lifter.info.details["device"] == "cpu"


def test_info_identifies_the_weights(model_files, lifter):
    onnx_path = model_files[1]
    assert lifter.info.backend == "onnxruntime"
    assert lifter.info.model_sha256 == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    assert lifter.info.model_name == "semgcn"
    assert lifter.info.details["providers"] == ["CPUExecutionProvider"]


def test_bad_construction_is_explained(model_files, tmp_path):
    with pytest.raises(ValueError, match="unknown lifter backend"):
        Lifter(backend="openvino", model_path=model_files[1])
    with pytest.raises(FileNotFoundError):
        Lifter(model_path=tmp_path / "nope.onnx")
    with pytest.raises(ValueError, match=r"needs a \.pt"):
        Lifter(backend="torch", model_path=model_files[1])
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        Lifter(model_path=junk)


def test_options_name_the_same_things_as_the_detectors_and_both_engines_are_context_managers(model_files):
    from dataclasses import fields

    from engines.backends import DETECTOR_BACKENDS, LIFTER_BACKENDS
    from engines.detector import DetectorOptions
    from engines.lifter import LifterOptions

    shared = {f.name for f in fields(LifterOptions)} & {f.name for f in fields(DetectorOptions)}
    assert shared == {"backend", "threads", "fp16", "trt_cache_dir"}
    assert {"onnxruntime", "onnxruntime-cuda", "tensorrt"} <= set(LIFTER_BACKENDS) & set(DETECTOR_BACKENDS)
    with Lifter(options=LifterOptions(model_path=str(model_files[1]), threads=1)) as lifter:
        assert lifter.options.threads == 1 and lifter.predict(_poses(1), (640, 480)).shape == (1, 16, 3)
    with pytest.raises(ValueError, match="threads"):
        Lifter(model_path=model_files[1], threads=-1)


def test_torch_cuda_falls_back_to_the_cpu_with_a_warning(model_files, caplog):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nothing falls back")
    lifter = Lifter(backend="torch-cuda", model_path=model_files[2])
    assert lifter.info.details["device"] == "cpu" and "no CUDA device" in caplog.text


def test_cuda_provider_falls_back_to_cpu_with_a_warning(model_files):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has the CUDA provider: nothing falls back")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lifter = Lifter(backend="onnxruntime-cuda", model_path=model_files[1])
    assert lifter.info.details["providers"] == ["CPUExecutionProvider"]
    assert any("CUDAExecutionProvider" in str(w.message) for w in caught)


def test_tensorrt_backend_without_tensorrt_names_what_to_install(model_files, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)   # import fails as on a machine without it
    with pytest.raises(TensorRTUnavailable, match="pip install tensorrt"):
        Lifter(backend="tensorrt", model_path=model_files[1])


def test_engines_import_neither_torch_nor_models():
    code = ("import sys, engines.lifter, engines.trt_engine, engines.backends.lifter_onnxruntime, "
            "engines.backends.lifter_tensorrt; "
            "bad = [m for m in ('torch', 'semgcn.models', 'tensorrt', 'onnx') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not DEFAULT_ONNX.is_file(), reason=f"shipped weights not committed yet ({DEFAULT_ONNX})")
def test_shipped_lifter_loads_and_returns_a_plausible_body():
    lifter = Lifter()
    kp = np.array([[320, 240], [300, 240], [300, 320], [300, 400], [340, 240], [340, 320], [340, 400],
                   [320, 200], [320, 160], [320, 130], [350, 165], [360, 210], [365, 250], [290, 165],
                   [280, 210], [275, 250]], dtype=np.float64)
    pose = lifter.predict(kp, image_size=(640, 480))
    assert pose.shape == (16, 3)
    height = np.ptp(pose[:, 1])
    assert 0.8 < height < 2.5                             # metres, head to ankles: an adult-sized body
