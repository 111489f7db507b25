"""The on-screen 2D overlay of ``run_live.py``: the skeleton over the camera image, FPS and latency.

``OverlayWindow`` is a pipeline consumer: it draws each frame's people and status, and sets the stop
event when the user closes it. One person is drawn in the side colours (left blue, right orange,
centre green); with several (schema ``semgcn.pose/2``) each person is drawn in their id's colour with
``id N`` above their head (``realtime.core.palette``). ``display_available()`` says whether a window
can be opened at all (a display server and an OpenCV built with a GUI backend); ``run_live.py`` runs
headless otherwise. The check matters: OpenCV's Qt backend aborts the whole process when it cannot reach a display, which no
``try`` could catch.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.core.palette import SIDE_COLOURS, SkeletonColours, bgr, colours_for, several_people
from realtime.core.records import FrameResult, PersonPose
from realtime.core.stats import RateMeter
from semgcn.skeleton import BONES, JOINT_INDEX

_HEAD = JOINT_INDEX["head"]
_KEY_QUIT = (ord("q"), 27)
#: The largest window the overlay opens (a 4K frame is shown at this size, scaled).
MAX_WINDOW = (1600, 900)


def display_available() -> bool:
    """True when OpenCV can open a window here (a GUI backend and, on Linux, a display server)."""
    build = cv2.getBuildInformation()
    gui_line = next((line for line in build.splitlines() if line.strip().startswith("GUI:")), "GUI: NONE")
    if gui_line.split(":", 1)[1].strip().upper() in ("", "NONE"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@dataclass
class OverlayInfo:
    """What the overlay writes in its corner.

    Attributes:
        fps: processed frames per second (recent).
        latency_ms: capture-to-publish latency of the frame shown.
        dropped: frames dropped so far.
        status: a short status word ("person", "nobody", an error).
        backends: e.g. "onnxruntime / onnxruntime".
    """

    fps: float = 0.0
    latency_ms: float = float("nan")
    dropped: int = 0
    status: str = ""
    backends: str = ""


def draw_skeleton(image: np.ndarray, keypoints_2d: np.ndarray | None, confidence: np.ndarray | None = None,
                  min_confidence: float = 0.3, colours: SkeletonColours = SIDE_COLOURS) -> np.ndarray:
    """Draw the 16-joint skeleton on ``image`` in place and return it.

    Args:
        image: ``(H, W, 3)`` uint8 BGR.
        keypoints_2d: ``(16, 2)`` pixels, or None (nothing drawn).
        confidence: ``(16,)``; joints below ``min_confidence`` are drawn hollow, their bones thin.
        min_confidence: confidence below which a joint counts as uncertain.
        colours: the bones' colours (``realtime.core.palette``): by side for one person, by id for several.
    """
    if keypoints_2d is None or not np.all(np.isfinite(keypoints_2d)):
        return image
    points = np.round(keypoints_2d).astype(np.int32)
    sure = np.ones(len(points), bool) if confidence is None else np.asarray(confidence) >= min_confidence
    thickness = max(2, image.shape[1] // 320)
    for (child, parent), rgb in zip(BONES, colours.bone_rgb()):
        width = thickness if sure[child] and sure[parent] else 1
        cv2.line(image, tuple(points[parent]), tuple(points[child]), bgr(rgb), width, cv2.LINE_AA)
    for j, point in enumerate(points):
        cv2.circle(image, tuple(point), thickness + 2, (255, 255, 255), -1 if sure[j] else 1, cv2.LINE_AA)
    return image


def draw_hud(image: np.ndarray, info: OverlayInfo) -> np.ndarray:
    """Write FPS, latency, drops and status in the top-left corner of ``image`` (in place)."""
    lines = [f"{info.fps:5.1f} fps   latency {info.latency_ms:6.1f} ms",
             f"dropped {info.dropped}   {info.status}"]
    if info.backends:
        lines.append(info.backends)
    scale, thickness = text_size(image)
    step = int(round(34 * scale))
    sizes = [cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0] for text in lines]
    box_w = min(image.shape[1], max(w for w, _ in sizes) + 16)
    box_h = min(image.shape[0], step * len(lines) + int(12 * scale) + 4)
    # A darkened box behind the text keeps it readable on any background.
    image[:box_h, :box_w] = (image[:box_h, :box_w] * 0.25).astype(image.dtype)
    y = step
    for text in lines:
        cv2.putText(image, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
        y += step
    return image


def text_size(image: np.ndarray) -> tuple[float, int]:
    """Hershey font scale and stroke thickness for legible text on ``image``: about 2.5 % of the image
    height (12 px at 480 lines, 27 at 1080), never below 12 px; the font's capitals are about 22 px
    tall at scale 1."""
    scale = max(12.0, 0.025 * image.shape[0]) / 22.0
    return scale, 1 if scale < 0.9 else 2


def draw_person_label(image: np.ndarray, person: PersonPose, colour_bgr: tuple[int, int, int]) -> np.ndarray:
    """Write ``id N`` centred just above the person's head keypoint, in the person's colour (in place).

    A dark outline under the coloured letters keeps them legible on any background; the label is
    kept inside the image. Nothing is drawn for non-finite keypoints.
    """
    keypoints = person.keypoints_2d
    if keypoints is None or not np.all(np.isfinite(keypoints[_HEAD])):
        return image
    text = f"id {person.id}"
    scale, thickness = text_size(image)
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    head_x, head_y = keypoints[_HEAD]
    x = int(np.clip(round(head_x - w / 2), 2, max(2, image.shape[1] - w - 2)))
    y = int(np.clip(round(head_y - 0.8 * h), h + 2, max(h + 2, image.shape[0] - 2)))  # baseline above the head
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 3, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour_bgr, thickness, cv2.LINE_AA)
    return image


def render_overlay(result: FrameResult, info: OverlayInfo) -> np.ndarray:
    """A copy of the frame's image with every person's skeleton and the HUD drawn on it: one person in
    the side colours, several each in their id's colour with their id above the head."""
    canvas = result.image.copy()
    for person in result.people:
        colours = colours_for(result, person)
        draw_skeleton(canvas, person.keypoints_2d, person.confidence, colours=colours)
    if several_people(result):  # labels last, so that no bone is drawn over a label
        for person in result.people:
            draw_person_label(canvas, person, bgr(colours_for(result, person).label))
    return draw_hud(canvas, info)


def overlay_status(result: FrameResult) -> str:
    """The status word of a frame: "person", "N people", the error, or "nobody"."""
    if len(result.people) > 1:
        return f"{len(result.people)} people"
    return "person" if result.has_person else (result.error or "nobody")


class OverlayWindow:
    """An OpenCV window showing the overlay, a pipeline consumer; closing it (q, Esc or the window's X)
    sets ``stop_event``.

    Args:
        stop_event: set when the user closes the window (None: closing only hides it).
        title: window title.
    """

    name = "overlay"

    def __init__(self, stop_event: threading.Event | None = None, title: str = "semgcn live (q to quit)"):
        self.title = title
        self.stop_event = stop_event
        self._rate = RateMeter()
        # Resizable, aspect kept, and no Qt toolbar or status bar: the frame fills the window.
        cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        self._shown = False

    def consume(self, result: FrameResult) -> None:
        """Draw the frame; the window's FPS is its own rate of frames received."""
        self._rate.tick()
        backends = result.backends or {}
        info = OverlayInfo(self._rate.rate(), result.latency_ms if result.latency_ms is not None else float("nan"),
                           result.dropped_at_source or 0, overlay_status(result),
                           f"{backends.get('detector', '?')} / {backends.get('lifter', '?')}")
        if not self.show(render_overlay(result, info)) and self.stop_event is not None:
            self.stop_event.set()

    def show(self, image: np.ndarray) -> bool:
        """Show ``image``; returns False when the user asked to quit. The window opens at the image's
        size (scaled down to fit ``MAX_WINDOW`` when larger), not at HighGUI's default 400 x 300."""
        if not self._shown:
            h, w = image.shape[:2]
            fit = min(1.0, MAX_WINDOW[0] / w, MAX_WINDOW[1] / h)
            cv2.resizeWindow(self.title, int(round(w * fit)), int(round(h * fit)))
        cv2.imshow(self.title, image)
        self._shown = True
        key = cv2.waitKey(1) & 0xFF
        if key in _KEY_QUIT:
            return False
        return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)
