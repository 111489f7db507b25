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


# ---------------------------------------------------------------- several people

from realtime.core.palette import SIDE_COLOURS, bgr, person_colours  # noqa: E402
from semgcn.skeleton import BONES, JOINT_INDEX, bone_side  # noqa: E402

_POSE = np.array([[80, 60], [70, 60], [70, 85], [70, 110], [90, 60], [90, 85], [90, 110], [80, 45],
                  [80, 30], [80, 15], [95, 32], [105, 45], [110, 58], [65, 32], [55, 45], [50, 58]], np.float32)


def _nearest(pixel, candidates: dict) -> str:
    return min(candidates, key=lambda k: np.abs(np.asarray(candidates[k], float) - pixel).sum())


def _people_frame(ids, shifts, wire_major=2) -> FrameResult:
    people = [PersonPose(id=i, keypoints_2d=(_POSE - 80) * 2.5 + shift, confidence=np.full(16, 0.9, np.float32),
                         joints_3d=np.zeros((16, 3), np.float32)) for i, shift in zip(ids, shifts)]
    return FrameResult(0, 0.0, (640, 480), image=np.zeros((480, 640, 3), np.uint8), people=people,
                       wire_major=wire_major)


def test_several_people_each_in_their_colour_with_their_id_above_the_head():
    ids, shifts = (3, 4, 9), ((120, 300), (320, 300), (520, 300))
    frame = _people_frame(ids, shifts)
    out = render_overlay(frame, OverlayInfo(status=overlay_status(frame)))
    palette = {(i, side): bgr(person_colours(i).side(side)) for i in ids for side in ("left", "right", "centre")}
    palette["joint"] = (255, 255, 255)
    for person in frame.people:
        for child, parent in BONES:
            a, b = person.keypoints_2d[parent], person.keypoints_2d[child]
            u, v = np.round(a + 0.4 * (b - a)).astype(int)  # on the bone, clear of the joints' circles
            assert _nearest(out[v, u], palette) == (person.id, bone_side(child)), (person.id, child, out[v, u])
        # "id N" in the person's own colour, in the band just above the head
        hx, hy = np.round(person.keypoints_2d[JOINT_INDEX["head"]]).astype(int)
        band = out[hy - 30:hy - 6, hx - 40:hx + 40].reshape(-1, 3).astype(int)
        label = np.array(bgr(person_colours(person.id).label))
        rows = np.flatnonzero((np.abs(out[hy - 30:hy - 6, hx - 40:hx + 40].astype(int) - label).sum(-1) < 40).any(1))
        assert (np.abs(band - label).sum(axis=1) < 40).sum() > 30, person.id
        assert rows.size and rows.max() - rows.min() + 1 >= 8, "label characters under 8 px are not legible"
    assert overlay_status(frame) == "3 people"


def test_the_labels_differ_by_id_and_one_person_keeps_the_side_colours_and_no_label():
    a = render_overlay(_people_frame((3,), ((320, 300),)), OverlayInfo())
    b = render_overlay(_people_frame((5,), ((320, 300),)), OverlayInfo())
    above_head = (slice(108, 132), slice(280, 360))  # the head (a 4 px circle) is at (320, 138)
    assert not np.array_equal(a[above_head], b[above_head])  # "id 3" is not "id 5"
    single = _people_frame((0,), ((320, 300),), wire_major=1)
    out = render_overlay(single, OverlayInfo())
    person = single.people[0]
    sides = {side: bgr(SIDE_COLOURS.side(side)) for side in ("left", "right", "centre")}
    for child, parent in BONES:
        a, b = person.keypoints_2d[parent], person.keypoints_2d[child]
        u, v = np.round(a + 0.4 * (b - a)).astype(int)
        assert _nearest(out[v, u], sides) == bone_side(child)
    assert not out[above_head].any()  # no id drawn for the single-person stream
