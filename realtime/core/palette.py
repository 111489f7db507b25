"""The colours of drawn skeletons, defined once for every consumer that draws (overlay, 3D viewer).

Two schemes, chosen by the stream's version, so that a person's colours never change while they are
in view:

* **One person** (a single-person pipeline, ``FrameResult.wire_major == 1``): colours by the subject's
  side, as the product always drew them: left blue, right orange, centre (spine, neck, head) green.
* **Several people** (``wire_major == 2``): a hue per track id, and the subject's side by lightness:
  the centre line in the person's own colour, the left limbs a light tint of it, the right limbs a
  deep shade. The person's colour is also the colour of their id label. Hues come from a fixed table
  of eight, ordered so that consecutive ids (the tracker hands them out in turn, so people seen together
  tend to have near ids) are far apart on the colour wheel; ids eight apart share a hue and are told
  apart by their labels.

Colours are RGB in [0, 1] (Open3D); ``bgr`` gives OpenCV's 0..255 BGR.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

from semgcn.skeleton import BONES, bone_side

RGB = tuple[float, float, float]

#: Hues (degrees) of ids 0, 1, 2...: azure, orange, green, magenta, yellow, violet, cyan, red.
PERSON_HUES_DEG = (205.0, 30.0, 120.0, 310.0, 60.0, 265.0, 170.0, 355.0)
# (saturation, value) of each side: the centre full, the left a light tint, the right a deep shade.
# The deep shade keeps 0.7 of full value so that it reads on the viewer's near-black background.
_SHADES = {"centre": (0.85, 1.0), "left": (0.40, 1.0), "right": (1.0, 0.70)}


@dataclass(frozen=True)
class SkeletonColours:
    """The colours of one drawn skeleton, RGB in [0, 1].

    Attributes:
        left, right, centre: bones by the subject's side (``semgcn.skeleton.bone_side``).
        label: the colour of the person's id text (their own colour).
    """

    left: RGB
    right: RGB
    centre: RGB
    label: RGB

    def side(self, side: str) -> RGB:
        """The colour of a side: "left", "right" or "centre"."""
        return {"left": self.left, "right": self.right, "centre": self.centre}[side]

    def bone_rgb(self) -> list[RGB]:
        """Each bone of ``semgcn.skeleton.BONES`` by the side of its child joint."""
        return [self.side(bone_side(child)) for child, _ in BONES]


def bgr(rgb: RGB) -> tuple[int, int, int]:
    """An RGB colour in [0, 1] as OpenCV's 0..255 BGR."""
    return tuple(int(round(255.0 * c)) for c in reversed(rgb))  # type: ignore[return-value]


#: The single-person scheme: by side only (left blue, right orange, centre green).
SIDE_COLOURS = SkeletonColours(left=(0.20, 0.55, 1.00), right=(1.00, 0.45, 0.10), centre=(0.30, 0.85, 0.35),
                               label=(0.95, 0.95, 0.95))


def person_colours(person_id: int) -> SkeletonColours:
    """The colours of track id ``person_id`` (>= 0) in a frame of several people: stable for the id."""
    hue = PERSON_HUES_DEG[int(person_id) % len(PERSON_HUES_DEG)] / 360.0
    left, right, centre = (colorsys.hsv_to_rgb(hue, *_SHADES[side]) for side in ("left", "right", "centre"))
    return SkeletonColours(left=left, right=right, centre=centre, label=centre)


def several_people(frame) -> bool:
    """Whether ``frame`` (a ``FrameResult``) comes from a pipeline that follows several people (schema
    ``semgcn.pose/2``): its people are drawn by id, with their id shown."""
    return frame.several_people


def colours_for(frame, person) -> SkeletonColours:
    """The colours of ``person`` in ``frame``: by id with several people, by side for one."""
    return person_colours(person.id) if several_people(frame) else SIDE_COLOURS


def legend(several: bool) -> str:
    """One line saying how the skeletons are coloured (the viewer's status line and snapshot caption)."""
    if several:
        return "a colour per person id: centre line, left light, right dark"
    return "left blue   right orange   centre green"
