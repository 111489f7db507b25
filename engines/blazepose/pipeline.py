"""The BlazePose pipeline on two model runners: detect -> rotated ROI -> crop -> landmarks -> track.

MediaPipe's PoseLandmarkCpu graph, on our ONNX/TensorRT engines:
1. No tracked ROI: the detector sees the whole image letterboxed to 224x224 (RGB in [-1, 1],
   zero border); its best detection (after weighted NMS) gives a rotated square ROI from keypoints
   0 (mid-hip) and 1 (scale/rotation point).
2. The landmark model sees that ROI warped to 256x256 (RGB in [0, 1], replicated border).
3. If its pose-presence score is not above ``min_presence``, the pose is lost: no result for this
   frame, and the next frame runs the detector again.
4. Otherwise the landmarks are mapped back to the image, smoothed (video mode), and the smoothed
   auxiliary landmarks give the next frame's ROI, so the detector does not run while tracking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engines.blazepose import landmarks as lmk
from engines.blazepose.anchors import generate_anchors
from engines.blazepose.decode import Detections, decode_detections, remove_letterbox, weighted_nms
from engines.blazepose.norm_rect import NormRect, pixel_roi, project_landmarks, rect_from_alignment
from engines.blazepose.roi import Roi, crop
from engines.blazepose.tracking import LandmarkSmoother

#: A model runner: NHWC float32 input -> outputs by name.
ModelRunner = Callable[[np.ndarray], dict]

DETECTOR_INPUT = (224, 224)
WHOLE_IMAGE = NormRect(*(np.float32(v) for v in (0.5, 0.5, 1.0, 1.0, 0.0)))
DET_OUT_BOXES, DET_OUT_SCORES = "Identity", "Identity_1"


@dataclass
class BlazePoseOptions:
    """Options of :class:`BlazePosePipeline`.

    Attributes:
        min_detection_confidence: detector score threshold (MediaPipe's min_detection_confidence).
        min_presence: pose-presence threshold below which the pose is lost (min_tracking_confidence).
        smoothing: smooth landmarks across frames in video mode.
    """

    min_detection_confidence: float = 0.5
    min_presence: float = 0.5
    smoothing: bool = True


@dataclass
class PoseEstimate:
    """One person's pose in one image.

    Attributes:
        landmarks: (33, 5) float32 x px, y px, z px, visibility, presence.
        world_landmarks: (33, 3) float32 metres, hip-centred.
        roi: the ROI the landmark model saw.
        presence: the landmark model's pose-presence score.
        detected: True if the detector ran for this frame, False if the ROI came from tracking.
    """

    landmarks: np.ndarray
    world_landmarks: np.ndarray
    roi: Roi
    presence: float
    detected: bool


class BlazePosePipeline:
    """BlazePose on two model runners.

    Args:
        detector: runner of pose_detection (input (1, 224, 224, 3)).
        landmark_model: runner of pose_landmark_full (input (1, 256, 256, 3)).
        options: thresholds and smoothing.
    """

    def __init__(self, detector: ModelRunner, landmark_model: ModelRunner,
                 options: BlazePoseOptions | None = None):
        self.detector, self.landmark_model = detector, landmark_model
        self.options = options or BlazePoseOptions()
        self.anchors = generate_anchors()
        self.smoother = LandmarkSmoother(self.options.smoothing)
        self._next_rect: NormRect | None = None

    def reset(self) -> None:
        """Forget the tracked person (call between unrelated videos)."""
        self._next_rect = None
        self.smoother.reset()

    def detect(self, image: np.ndarray, bgr: bool = True) -> Detections:
        """Run the person detector on a whole image.

        Args:
            image: (H, W, 3) uint8.
            bgr: the image is BGR (OpenCV order) rather than RGB.

        Returns:
            Detections after weighted NMS, best first, normalised to the image.
        """
        h, w = image.shape[:2]
        roi, padding = pixel_roi(WHOLE_IMAGE, (w, h), DETECTOR_INPUT)  # letterboxed whole image
        tensor = crop(image, roi, DETECTOR_INPUT, border_zero=True)
        if bgr:
            tensor = tensor[..., ::-1]
        x = (tensor.astype(np.float32) * (2.0 / 255.0) - 1.0)[None]
        out = self.detector(np.ascontiguousarray(x))
        raw = decode_detections(out[DET_OUT_BOXES][0], out[DET_OUT_SCORES][0], self.anchors,
                                self.options.min_detection_confidence)
        return remove_letterbox(weighted_nms(raw), padding)

    def run_landmarks(self, image: np.ndarray, rect: NormRect, bgr: bool = True):
        """Run the landmark model on one ROI.

        Args:
            image: (H, W, 3) uint8.
            rect: the image-normalised region to crop.
            bgr: the image is BGR rather than RGB.

        Returns:
            (presence score, (39, 5) image-normalised landmarks, (33, 3) world landmarks).
        """
        h, w = image.shape[:2]
        roi, padding = pixel_roi(rect, (w, h), lmk.INPUT_SIZE)
        tensor = crop(image, roi, lmk.INPUT_SIZE, border_zero=False)
        if bgr:
            tensor = tensor[..., ::-1]
        x = (tensor.astype(np.float32) * (1.0 / 255.0))[None]
        out = self.landmark_model(np.ascontiguousarray(x))
        presence = float(np.asarray(out[lmk.OUT_PRESENCE]).reshape(-1)[0])
        norm = lmk.decode_landmarks(out[lmk.OUT_LANDMARKS][0], out[lmk.OUT_HEATMAP][0])
        world = lmk.decode_world_landmarks(out[lmk.OUT_WORLD][0], rect.to_roi(w, h))
        return presence, project_landmarks(norm, rect, padding), world

    def process(self, image: np.ndarray, timestamp: float, tracking: bool = True,
                bgr: bool = True) -> PoseEstimate | None:
        """Estimate the pose of the (first detected) person in ``image``.

        Args:
            image: (H, W, 3) uint8.
            timestamp: seconds (drives the smoothing filters; increasing in video mode).
            tracking: video mode: reuse the previous frame's ROI and smooth. False: every image is
                independent (the detector always runs, nothing is smoothed, no state is kept).
            bgr: the image is BGR rather than RGB.

        Returns:
            The pose, or None when nobody is found (or the tracked pose was lost in this frame).
        """
        rect = self._next_rect if tracking else None
        detected = rect is None
        if rect is None:
            rects = self.detection_rects(image, bgr)
            if not rects:
                return self._lost(tracking)
            rect = rects[0]
        out = self.estimate(image, rect, self.smoother if tracking else None, timestamp, bgr, detected)
        if out is None:
            return self._lost(tracking)
        estimate, next_rect = out
        if tracking:
            self._next_rect = next_rect
        return estimate

    def detection_rects(self, image: np.ndarray, bgr: bool = True) -> list[NormRect]:
        """The pose ROI of every person the detector finds, best first (degenerate ones left out)."""
        h, w = image.shape[:2]
        detections = self.detect(image, bgr)
        rects = []
        for kp in detections.keypoints:
            rect = rect_from_alignment(kp[0], kp[1], (w, h))
            if rect.width * w > 1e-3:  # a degenerate detection (both keypoints together) is no person
                rects.append(rect)
        return rects

    def estimate(self, image: np.ndarray, rect: NormRect, smoother: LandmarkSmoother | None, timestamp: float,
                 bgr: bool = True, detected: bool = False) -> tuple[PoseEstimate, NormRect | None] | None:
        """The landmarks in ``rect``, smoothed by ``smoother`` (None: not smoothed), and the ROI they give
        for the next frame (None without a smoother); None when no pose is present there."""
        h, w = image.shape[:2]
        presence, all_landmarks, world = self.run_landmarks(image, rect, bgr)
        if not presence > self.options.min_presence or not np.isfinite(all_landmarks).all():
            return None
        landmarks = all_landmarks[:lmk.NUM_LANDMARKS]
        aux = all_landmarks[[lmk.AUX_CENTRE, lmk.AUX_SCALE]]
        next_rect = None
        if smoother is not None:
            landmarks, aux, world = smoother(landmarks, aux, world, timestamp, (w, h))
            next_rect = rect_from_alignment(aux[0, :2], aux[1, :2], (w, h))
        pixels = landmarks.astype(np.float64) * [w, h, w, 1.0, 1.0]
        return PoseEstimate(pixels.astype(np.float32), world.astype(np.float32), rect.to_roi(w, h),
                            presence, detected), next_rect

    def _lost(self, tracking: bool) -> None:
        if tracking:
            self._next_rect = None
            self.smoother.lost()
        return None
