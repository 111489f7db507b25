"""The PoseDetector API on the real ONNX engines (ONNX Runtime, CPU)."""
import warnings

import cv2
import numpy as np
import pytest

from engines.detector import DetectionResult, DetectorOptions, PoseDetector, check_frame


@pytest.fixture(scope="module")
def detector():
    return PoseDetector(backend="onnxruntime", threads=1)


@pytest.fixture(scope="module")
def photo(shared_dir):
    image = cv2.imread(str(shared_dir / "media" / "tfjs_models" / "pose.jpg"))
    assert image is not None
    return image


def test_result_on_a_photo(detector, photo):
    result = detector.detect_image(photo)
    assert isinstance(result, DetectionResult)
    assert result.keypoints_2d.shape == (16, 2) and result.keypoints_2d.dtype == np.float32
    assert result.confidence.shape == (16,) and result.confidence.dtype == np.float32
    assert result.landmarks.shape == (33, 5) and result.world_landmarks.shape == (33, 3)
    assert result.image_size == (photo.shape[1], photo.shape[0]) and result.detected is True
    assert result.time_ms > 0
    h, w = photo.shape[:2]
    assert np.all((result.keypoints_2d >= 0) & (result.keypoints_2d <= [w, h]))
    assert np.all((result.confidence >= 0) & (result.confidence <= 1))
    assert result.confidence.max() > 0.9            # a clearly visible person
    head, pelvis = result.keypoints_2d[9], result.keypoints_2d[0]
    assert head[1] < pelvis[1]                       # upright: head above the pelvis in the image
    assert abs(result.world_landmarks[[23, 24]].mean(0)).max() < 0.05  # world origin between hips


def test_any_aspect_ratio_letterbox(detector, photo):
    """Padding the photo (tall or wide) moves the keypoints by exactly the padding."""
    base = detector.detect_image(photo).keypoints_2d
    tall = cv2.copyMakeBorder(photo, 400, 300, 0, 0, cv2.BORDER_CONSTANT, value=(40, 40, 40))
    wide = cv2.copyMakeBorder(photo, 0, 0, 700, 500, cv2.BORDER_CONSTANT, value=(40, 40, 40))
    for image, shift in ((tall, (0, 400)), (wide, (700, 0))):
        moved = detector.detect_image(image)
        assert moved is not None
        err = np.linalg.norm(moved.keypoints_2d - base - shift, axis=1)
        assert np.median(err) < 6.0, err  # the person is smaller in the detector input: a few px
    small = cv2.resize(photo, (photo.shape[1] // 3, photo.shape[0] // 3), interpolation=cv2.INTER_AREA)
    scaled = detector.detect_image(small)
    assert scaled is not None
    assert np.median(np.linalg.norm(scaled.keypoints_2d * 3 - base, axis=1)) < 8.0


def test_nobody_gives_none_never_an_exception(detector):
    assert detector.detect_image(np.zeros((480, 640, 3), np.uint8)) is None
    assert detector.detect_image(np.full((1, 1, 3), 255, np.uint8)) is None
    rng = np.random.default_rng(0)
    assert detector.detect_image(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)) is None


@pytest.mark.parametrize("frame, words", [
    (None, "None"),
    (np.zeros((10, 10), np.uint8), "(H, W, 3)"),
    (np.zeros((10, 10, 4), np.uint8), "(H, W, 3)"),
    (np.zeros((10, 10, 3), np.float32), "uint8"),
    (np.zeros((0, 10, 3), np.uint8), "empty"),
    ("frame.jpg", "numpy array"),
])
def test_not_an_image_is_a_value_error(detector, frame, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        detector(frame)
    with pytest.raises(ValueError):
        check_frame(frame)


def test_tracking_skips_the_detector_until_the_pose_is_lost(photo):
    det = PoseDetector(threads=1)
    first = det(photo, timestamp=1 / 30)
    second = det(photo, timestamp=2 / 30)
    assert first.detected is True and second.detected is False   # second crop came from tracking
    # a slightly different crop (from the landmarks, not the detector): nearly the same pose
    assert np.median(np.linalg.norm(second.keypoints_2d - first.keypoints_2d, axis=1)) < 2.0
    assert det(np.zeros_like(photo), timestamp=3 / 30) is None     # lost ...
    assert det(photo, timestamp=4 / 30).detected is True           # ... so the detector runs again
    det.reset()
    assert det(photo, timestamp=5 / 30).detected is True


def test_options_and_backend_errors():
    with pytest.raises(ValueError, match="unknown detector backend"):
        PoseDetector(backend="openpose")
    with pytest.raises(ValueError, match="min_presence"):
        PoseDetector(min_presence=1.5)
    with pytest.raises(FileNotFoundError, match="convert_blazepose"):
        PoseDetector(model_dir="/nonexistent")
    det = PoseDetector(options=DetectorOptions(tracking=False, smoothing=False), threads=1)
    assert det.options.tracking is False and det.describe()["backend"] == "onnxruntime"


def test_tensorrt_missing_says_what_to_install():
    try:
        import tensorrt  # noqa: F401
        pytest.skip("tensorrt is installed here; this test covers machines without it")
    except Exception:
        pass
    from engines.trt_engine import TensorRTUnavailable
    with pytest.raises(TensorRTUnavailable, match="pip install tensorrt"):
        PoseDetector(backend="tensorrt")


def test_onnxruntime_cuda_falls_back_with_a_warning(photo):
    import onnxruntime as ort
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA provider present: no fallback to test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        det = PoseDetector(backend="onnxruntime-cuda", threads=1)
    assert any("CUDA" in str(w.message) for w in caught)
    assert det.detect_image(photo) is not None
