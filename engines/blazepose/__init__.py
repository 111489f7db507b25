"""BlazePose (MediaPipe's pose detector + landmark model) run as our own ONNX / TensorRT engines.

Modules: ``anchors`` (SSD anchors), ``decode`` (boxes, keypoints, weighted NMS), ``roi`` (rotated
region of interest and the MediaPipe-exact crop), ``norm_rect`` (MediaPipe's float32 ROI
arithmetic), ``landmarks`` (33 landmarks, heatmap refinement, world landmarks), ``tracking`` (MediaPipe's landmark smoothing), ``pipeline`` (detect -> crop -> landmarks
-> track), ``mapping`` (BlazePose-33 -> the canonical 16 joints). The public entry point is
:class:`engines.detector.PoseDetector`.

Every constant here was read from the graphs compiled into the mediapipe 0.10.14 wheel
(PoseDetectionCpu, PoseDetectionToRoi, PoseLandmarkByRoiCpu, PoseLandmarkFiltering, ...); see
docs/detector.md.
"""
