"""Camera calibration for the pose pipeline (docs/calibration.md).

Modules: ``camera_file`` (the ``semgcn.camera/1`` JSON), ``boards`` (chessboard / ChArUco detection),
``intrinsics`` (coverage and ``cv2.calibrateCamera``), ``capture`` (images, video, live camera),
``position`` (pelvis translation), ``scale`` (metric scale), ``world`` (floor plane, world axes),
``stage`` (``CalibrationStage``, what the live pipeline calls). CLI: ``python -m calibration``.
"""
