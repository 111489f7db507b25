"""The mediapipe package's own Pose (``mp.solutions.pose``, model_complexity=1) as a backend.

It is the reference our ONNX pipeline is tested against, and an alternative for users who have
mediapipe installed. It runs MediaPipe's graph (TFLite with XNNPACK), so it cannot use TensorRT.
"""
from __future__ import annotations

import numpy as np


class MediaPipePose:
    """Wraps ``mediapipe.solutions.pose.Pose``; one instance for video mode, one for single images.

    Args:
        smoothing: MediaPipe's smooth_landmarks in video mode.
        min_detection_confidence: detector score threshold.
        min_presence: MediaPipe's min_tracking_confidence.
    """

    def __init__(self, smoothing: bool = True, min_detection_confidence: float = 0.5,
                 min_presence: float = 0.5):
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:
            raise ImportError("backend='mediapipe' needs the mediapipe package: "
                              "pip install mediapipe==0.10.14 (the last release that ships its pose "
                              "models in the wheel)") from exc
        self._mp_pose = mp_pose
        self._kwargs = dict(model_complexity=1, smooth_landmarks=smoothing, enable_segmentation=False,
                            min_detection_confidence=min_detection_confidence,
                            min_tracking_confidence=min_presence)
        self._video = None
        self._image = None

    def _solution(self, tracking: bool):
        if tracking:
            if self._video is None:
                self._video = self._mp_pose.Pose(static_image_mode=False, **self._kwargs)
            return self._video
        if self._image is None:
            self._image = self._mp_pose.Pose(static_image_mode=True, **self._kwargs)
        return self._image

    def reset(self) -> None:
        """Start a new video (MediaPipe's graph keeps its tracking state otherwise)."""
        if self._video is not None:
            self._video.close()
            self._video = None

    def process(self, image: np.ndarray, tracking: bool = True, bgr: bool = True):
        """Landmarks of one image.

        Args:
            image: (H, W, 3) uint8.
            tracking: video mode (MediaPipe's static_image_mode=False). MediaPipe stamps frames at
                30 fps itself.
            bgr: the image is BGR rather than RGB.

        Returns:
            ((33, 5) x px, y px, z px, visibility, presence; (33, 3) world metres or None), or None.
        """
        rgb = np.ascontiguousarray(image[..., ::-1] if bgr else image)
        result = self._solution(tracking).process(rgb)
        if result.pose_landmarks is None:
            return None
        h, w = image.shape[:2]
        # The solution API leaves presence unset (reads 0): report 1 there, so that a joint's
        # confidence (min of visibility and presence) is the visibility, as for our pipeline.
        lms = np.array([[p.x * w, p.y * h, p.z * w, p.visibility,
                         p.presence if p.HasField("presence") else 1.0]
                        for p in result.pose_landmarks.landmark], np.float32)
        world = None
        if result.pose_world_landmarks is not None:
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark], np.float32)
        return lms, world

    def close(self) -> None:
        """Release MediaPipe's graphs."""
        for sol in (self._video, self._image):
            if sol is not None:
                sol.close()
        self._video = self._image = None
