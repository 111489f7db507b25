"""The viewer's offscreen pixels and the headless live window (EGL: libegl1, libgl1, libgl1-mesa-dri).

Rendering uses Open3D's legacy Visualizer, which falls back to EGL (Mesa) offscreen when there is no
display, so these tests need Debian's libegl1, libgl1, libgl1-mesa-dri (and libusb-1.0-0 for Open3D).
"""
from __future__ import annotations

import time

import numpy as np

from realtime.viewer.geometry import BACKGROUND_COLOUR
from realtime.viewer.camera import look_at_view
from realtime.viewer.render import render_frame_to_image
from realtime.viewer.scene import SceneOptions, place_frame
from semgcn.skeleton import BONES, bone_side
from tests.test_realtime.test_viewer.viewer_fixtures import StreamingPublisher, classify, make_frame, t_pose


# ---------------------------------------------------------------- offscreen pixels

def test_render_shows_bone_colours_where_the_bones_project_and_background_elsewhere():
    frame = make_frame(joints=t_pose())
    width, height = 480, 360
    pelvis = np.array([0.0, 0.0, -3.0])
    view = look_at_view(pelvis + [0.8, 0.3, 3.2], pelvis + [0, 0.1, 0], width, height, fov_deg=45)
    image = render_frame_to_image(frame, width, height, camera_view=view, show_grid=False, show_frustum=False)
    assert image.shape == (height, width, 3) and image.dtype == np.uint8

    joints, _ = place_frame(frame, SceneOptions())
    for k, (child, parent) in enumerate(BONES):
        u, v = np.round(view.project((joints[[child]] + joints[[parent]]) / 2)[0]).astype(int)
        assert 0 <= u < width and 0 <= v < height
        seen = classify(image[v, u])
        assert seen == bone_side(child), f"bone {k} ({child}-{parent}) at ({u},{v}) shows {seen} {image[v, u]}"
    for j, (u, v) in enumerate(np.round(view.project(joints)).astype(int)):
        assert classify(image[v, u]) == "joint", f"joint {j} at ({u},{v}) shows {image[v, u]}"

    background = np.round(np.asarray(BACKGROUND_COLOUR) * 255)
    for v, u in [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]:
        assert np.abs(image[v, u] - background).max() <= 2
    # Away from every projected bone (30 px or more), only background is drawn.
    samples = view.project(np.concatenate([joints[p] + np.linspace(0, 1, 20)[:, None] * (joints[c] - joints[p])
                                           for c, p in BONES]))
    vv, uu = np.mgrid[0:height:7, 0:width:7]
    far = np.min(np.hypot(uu[..., None] - samples[:, 0], vv[..., None] - samples[:, 1]), axis=-1) > 30
    assert far.sum() > 1000
    assert np.abs(image[vv[far], uu[far]].astype(int) - background).max() <= 2


def test_render_with_grid_frustum_and_hud_still_shows_the_skeleton():
    image = render_frame_to_image(make_frame(joints=t_pose()), 320, 240, hud_text="frame 0\nlegend")
    labels = [classify(p) for p in image[::3, ::3].reshape(-1, 3)]
    for side in ("left", "right", "centre", "joint"):
        assert labels.count(side) > 5, side
    # The HUD text is bright at the top-left, where nothing else is drawn.
    assert image[:40, :120].max() > 200


# ---------------------------------------------------------------- live window (EGL, no display) and CLI

def test_live_window_draws_the_stream_shows_status_and_hides_nobody():
    from realtime.viewer.window import LiveViewer, WindowOptions

    publisher = StreamingPublisher()
    publisher.start()
    viewer = LiveViewer(WindowOptions(connect=publisher.address, width=320, height=240))
    try:
        viewer.open()
        from realtime.viewer.camera import current_view

        # The view turns around the subject: following it to where it already is moves nothing.
        opened = current_view(viewer.vis).extrinsic
        viewer.vis.get_view_control().set_lookat(viewer.state.look_at)
        assert np.allclose(current_view(viewer.vis).extrinsic, opened, atol=1e-6)
        end = time.monotonic() + 10
        while viewer.frames_drawn < 5 and time.monotonic() < end:
            assert viewer.step()
        assert viewer.frames_drawn >= 5
        assert "fps" in viewer.status_text() and "waiting" not in viewer.status_text()
        labels = [classify(p) for p in (viewer.capture()[::2, ::2] * 255).reshape(-1, 3)]
        assert labels.count("left") > 5 and labels.count("right") > 5

        # The user orbits; the subject walks 1.5 m: the view follows, keeping the user's orbit.
        start = current_view(viewer.vis).extrinsic
        viewer.vis.get_view_control().rotate(150.0, 40.0)
        viewer.step()
        before = current_view(viewer.vis).extrinsic
        assert not np.allclose(before[:3, :3], start[:3, :3], atol=1e-3)  # the orbit did turn the view
        publisher.root = (1.5, 0.0, 3.0)
        follow_end = time.monotonic() + 3
        while np.linalg.norm(viewer.state.look_at - [1.5, 0, -3]) > 0.05 and time.monotonic() < follow_end:
            viewer.step()
        after = current_view(viewer.vis).extrinsic
        assert np.linalg.norm(viewer.state.look_at - [1.5, 0, -3]) <= 0.05
        assert np.allclose(after[:3, :3], before[:3, :3], atol=1e-6)   # same viewing direction ...
        eye_shift = (-after[:3, :3].T @ after[:3, 3]) - (-before[:3, :3].T @ before[:3, 3])
        assert 1.3 < np.linalg.norm(eye_shift) < 1.7                      # ... carried along with the subject

        publisher.person = False  # nobody in view: the skeleton is hidden
        drawn = viewer.frames_drawn
        while viewer.frames_drawn < drawn + 3 and time.monotonic() < end:
            viewer.step()
        assert viewer.state.joints is None and "nobody in view" in viewer.status_text()
        labels = [classify(p) for p in (viewer.capture()[::2, ::2] * 255).reshape(-1, 3)]
        assert labels.count("left") == 0 and labels.count("right") == 0

        publisher.stop.set()  # the stream stops: after a second the view says it is waiting
        publisher.join()
        stop_at = time.monotonic()
        while time.monotonic() - stop_at < 1.3:
            viewer.step()
        assert "waiting for stream" in viewer.status_text()
        viewer.vis.close()  # what the window's close button and the Q / Esc keys do
        assert viewer.step() is False
    finally:
        publisher.stop.set()
        viewer.close()
