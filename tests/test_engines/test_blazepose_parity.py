"""Parity of our ONNX BlazePose pipeline with the mediapipe package's own Pose (model_complexity=1).

Per landmark, the median distance must be <= 2 px on the frames where both find a person, and both
must agree on which frames have a person. The long video is subsampled to keep this under a minute;
``python -m tools.parity_blazepose`` prints the full table.
"""
import pytest

pytest.importorskip("mediapipe", reason="the parity reference is the mediapipe package")

from engines.detector import PoseDetector  # noqa: E402
from tools.parity_blazepose import compare  # noqa: E402

CASES = [  # file under shared/media, mode, stride, max frames
    ("tfjs_models/pose.jpg", "image", 1, None),
    ("mediapipe_samples/pose_test_image.jpg", "image", 1, None),
    ("tfjs_models/pose_1.mp4", "video", 1, None),
    ("intel_sample_videos/one-by-one-person-detection.mp4", "image", 25, None),
    ("intel_sample_videos/one-by-one-person-detection.mp4", "video", 1, 60),
]


@pytest.fixture(scope="module")
def detectors():
    ours = PoseDetector(backend="onnxruntime", threads=1)
    reference = PoseDetector(backend="mediapipe")
    yield ours, reference
    reference.close()


@pytest.mark.slow
@pytest.mark.parametrize("name, mode, stride, max_frames", CASES)
def test_parity_with_mediapipe(shared_dir, detectors, name, mode, stride, max_frames):
    row = compare(shared_dir / "media" / name, mode, *detectors, stride=stride, max_frames=max_frames,
                  progress=False)
    assert row.frames > 0
    assert row.disagreements == 0, f"{name}: person found by only one of them in {row.disagreements} frames"
    assert row.both > 0
    assert row.stat(50) <= 2.0, f"{name}: median landmark distance {row.stat(50):.2f} px"
