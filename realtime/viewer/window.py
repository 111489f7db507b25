"""The live window: receive, update the scene, render, poll the mouse, in one non-blocking loop.

Each pass of the loop waits at most one display period for the stream (so frames are drawn as soon
as they arrive and the mouse stays responsive when none do), draws only the newest frame, glides the
look-at point towards the subject (the user's orbit and zoom are kept: only the point they turn
around moves) and re-places the status text and the people's id labels in front of the camera.
With several people the view follows the group's centre, each skeleton is drawn in its id's colour
with ``id N`` above the head, and the status text lists the ids in view. Keys: F toggles following,
R resets the view, Q or Esc closes the window (the viewer only: the pipeline runs on).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from realtime.core.palette import legend
from realtime.viewer.geometry import SkeletonStyle
from realtime.viewer.receiver import ReceiverOptions, StreamReceiver, StreamStats
from realtime.viewer.camera import current_view, default_view
from realtime.viewer.render import SceneGeometries
from realtime.viewer.scene import SceneOptions, SceneState


@dataclass
class WindowOptions:
    """Options of the live window.

    Attributes:
        connect: ZeroMQ endpoint of the publisher.
        width, height: window size in pixels.
        scene: placement, trail and smoothing (``SceneOptions``).
        style: skeleton radii.
        show_grid, show_frustum: draw the ground grid / the source camera's frustum.
        follow: start with the view following the subject.
        max_fps: most passes of the loop per second (bounds the rendering cost when idle).
        stale_after_s: seconds without frames before the view says it is waiting for the stream.
        receiver: socket settings.
    """

    connect: str = "tcp://127.0.0.1:5555"
    width: int = 1280
    height: int = 720
    scene: SceneOptions = field(default_factory=SceneOptions)
    style: SkeletonStyle = field(default_factory=SkeletonStyle)
    show_grid: bool = True
    show_frustum: bool = True
    follow: bool = True
    max_fps: float = 60.0
    stale_after_s: float = 1.0
    receiver: ReceiverOptions = field(default_factory=ReceiverOptions)


class LiveViewer:
    """An Open3D window fed by a ``semgcn.pose`` stream. ``open()``, then ``step()`` until it returns
    False (window closed), then ``close()``; or ``run()`` for all three.

    Args:
        options: window, scene and socket options.
    Attributes:
        frames_drawn: frames that reached the screen (newest of each pass).
    """

    def __init__(self, options: WindowOptions = WindowOptions()):
        self.options = options
        self.state = SceneState(options.scene)
        self.stats = StreamStats(options.stale_after_s)
        self.receiver: StreamReceiver | None = None
        self.vis = self.geometries = None
        self.follow = options.follow
        self.frames_drawn = 0
        self._last_step = time.monotonic()
        self._hud_text, self._hud_extrinsic = "", np.zeros((4, 4))

    def open(self) -> None:
        """Create the window and connect to the stream.

        Raises:
            RuntimeError: when Open3D cannot open a window (no display and no EGL).
        """
        import open3d as o3d

        opt = self.options
        self.vis = o3d.visualization.VisualizerWithKeyCallback()
        title = f"SemGCN pose viewer - {opt.connect}"
        if not self.vis.create_window(window_name=title, width=opt.width, height=opt.height):
            raise RuntimeError("Open3D could not open a window (no display, and no EGL for offscreen)")
        self.geometries = SceneGeometries(self.vis, opt.style, opt.show_grid, opt.show_frustum)
        self.geometries.sync(self.state)
        self.reset_view()
        self.vis.register_key_callback(ord("F"), lambda vis: self._toggle_follow())
        self.vis.register_key_callback(ord("R"), lambda vis: self.reset_view())
        self.vis.register_key_callback(ord("Q"), lambda vis: vis.close())
        self.receiver = StreamReceiver(opt.connect, opt.receiver)

    def reset_view(self) -> bool:
        """Put the camera back to the three-quarter view of the subject."""
        now = current_view(self.vis)  # the window's size now: the user may have resized it
        self.geometries.set_view(default_view(self.state.look_at, now.width, now.height), self.state.look_at)
        return False

    def _toggle_follow(self) -> bool:
        self.follow = not self.follow
        return False

    def step(self) -> bool:
        """One pass: events, newest frame, smoothing, status text, render. False once the window closed.

        Redraws only when something changed (a frame, the status text, the camera, the follow
        glide), so an idle viewer costs little.
        """
        if not self.vis.poll_events():
            return False
        before = self.receiver.received
        frame = self.receiver.poll(timeout_s=1.0 / self.options.max_fps)
        now, tick = time.time(), time.monotonic()
        changed = frame is not None
        if frame is not None:
            self.stats.add(frame, self.receiver.received - before, now)
            self.state.update(frame)
            self.frames_drawn += 1
        previous_look_at = self.state.look_at.copy()
        self.state.step(tick - self._last_step)
        self._last_step = tick
        changed |= bool(np.abs(self.state.look_at - previous_look_at).max() > 1e-4)
        if changed:
            self.geometries.sync(self.state)
            if self.follow:
                self.vis.get_view_control().set_lookat(self.state.look_at)
        view, text = current_view(self.vis), self.status_text(now)
        if changed or text != self._hud_text or not np.allclose(view.extrinsic, self._hud_extrinsic):
            self.geometries.set_hud(text, view)
            self.geometries.set_labels(self.state, view)  # the labels sit over the heads as seen now
            self._hud_text, self._hud_extrinsic = text, view.extrinsic
            self.vis.update_renderer()
        return True

    def status_text(self, now: float | None = None) -> str:
        """The status lines shown at the top-left of the window."""
        lines = [self.stats.status_text(self.options.connect, now), legend(self.state.several)]
        if self.state.several and self.state.people:
            lines.append("people in view: " + ", ".join(f"id {p.id}" for p in self.state.people))
        if self.receiver is not None and self.receiver.malformed:
            lines.append(f"{self.receiver.malformed} malformed messages skipped")
        if self.options.scene.coords == "world" and self.state.joints is not None and not self.state.world_shown:
            lines.append("no joints_world in the stream (calibration off?): camera frame shown")
        if not self.follow:
            lines.append("follow off (F)")
        return "\n".join(lines)

    def capture(self):
        """The window's current image, ``(h, w, 3)`` float RGB in [0, 1] (for tests and screenshots)."""
        return np.asarray(self.vis.capture_screen_float_buffer(do_render=True))

    def close(self) -> None:
        """Destroy the window and close the socket (safe to call twice)."""
        if self.vis is not None:
            self.vis.destroy_window()
            self.vis = None
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None

    def run(self, max_frames: int | None = None, max_seconds: float | None = None, should_stop=lambda: False) -> int:
        """Open, loop until the window closes (or a limit / ``should_stop()``), close. Returns frames drawn."""
        start = time.monotonic()
        try:
            self.open()
            while not should_stop() and self.step():
                if max_frames is not None and self.frames_drawn >= max_frames:
                    break
                if max_seconds is not None and time.monotonic() - start >= max_seconds:
                    break
        finally:
            self.close()
        return self.frames_drawn
