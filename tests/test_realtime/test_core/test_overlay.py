"""The on-screen overlay: skeleton and HUD drawn on a copy of the frame, and the display check."""
from __future__ import annotations

import numpy as np

from realtime.core import overlay
from realtime.core.overlay import OverlayInfo, overlay_status, render_overlay
from realtime.core.records import FrameResult, PersonPose

W, H = 160, 120


def _frame(image, keypoints, confidence) -> FrameResult:
    return FrameResult(0, 0.0, (W, H), image=image, people=[PersonPose(keypoints_2d=keypoints, confidence=confidence,
                                                                         joints_3d=np.zeros((16, 3), np.float32))])


def test_overlay_draws_skeleton_and_hud_on_a_copy():
    image = np.zeros((H, W, 3), np.uint8)
    kp = np.array([[80, 60], [70, 60], [70, 85], [70, 110], [90, 60], [90, 85], [90, 110], [80, 45],
                   [80, 30], [80, 15], [95, 32], [105, 45], [110, 58], [65, 32], [55, 45], [50, 58]], np.float32)
    out = render_overlay(_frame(image, kp, np.full(16, 0.9, np.float32)), OverlayInfo(fps=29.7, latency_ms=41.0, status="person"))
    assert image.max() == 0 and out.shape == image.shape  # the camera image itself is untouched
    assert out[85, 70].any() and out[45, 80].any()  # right knee and spine joints drawn
    assert out[5:40, 5:60].any()  # the HUD text in the top-left corner
    nan_kp = kp.copy()
    nan_kp[3] = np.nan
    blank = render_overlay(_frame(image, nan_kp, None), OverlayInfo())
    assert not blank[50:, :].any()  # nothing drawn below the HUD for a non-finite pose


def test_no_display_means_headless(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(overlay.sys, "platform", "linux")
    assert overlay.display_available() is False


def test_the_status_word_says_person_nobody_or_the_error():
    image = np.zeros((H, W, 3), np.uint8)
    assert overlay_status(_frame(image, np.zeros((16, 2)), None)) == "person"
    assert overlay_status(FrameResult(0, 0.0, (W, H))) == "nobody"
    assert overlay_status(FrameResult(0, 0.0, (W, H), error="lifter failed: x")) == "lifter failed: x"
