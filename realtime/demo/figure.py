"""Body geometry of the demo figure: ellipsoids attached to the segments of the kinematic tree.

Every body part is an ellipsoid given in its segment's local frame (x = subject's left, y up, z
forward; see ``kinematics``): overlapping ellipsoids under a z-buffer blend into one surface, the way a
sculptor's mannequin does. The head carries a face (eyes with pupils, brows, nose, mouth, ears, hair
over the top and back) so that the facing direction is unmistakable, the hands have a palm, fingers and
a thumb, the feet wear shoes, and the clothes (shirt with short sleeves, belted trousers) come from a palette
chosen by the scene's seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.demo.kinematics import SHOE_CENTRE, SHOE_RADII, Skeleton, rot_x

#: Clothing and skin palettes (BGR, 0-255); a scene picks one by its seed.
PALETTES: tuple[dict[str, tuple[int, int, int]], ...] = (
    {"skin": (120, 160, 215), "shirt": (160, 95, 40), "trousers": (70, 55, 45), "shoes": (30, 35, 45),
     "hair": (25, 40, 60)},
    {"skin": (95, 130, 185), "shirt": (50, 60, 190), "trousers": (110, 95, 80), "shoes": (235, 235, 235),
     "hair": (20, 20, 25)},
    {"skin": (70, 95, 140), "shirt": (90, 160, 60), "trousers": (40, 40, 40), "shoes": (40, 70, 120),
     "hair": (15, 15, 20)},
    {"skin": (140, 180, 230), "shirt": (60, 180, 230), "trousers": (140, 70, 40), "shoes": (35, 35, 35),
     "hair": (50, 110, 170)},
)
_FIXED_COLOURS = {"eye_white": (235, 240, 240), "pupil": (35, 25, 20), "lips": (95, 90, 180), "brow": (30, 35, 45),
                  "belt": (30, 40, 55)}


@dataclass(frozen=True)
class Part:
    """One ellipsoid: ``segment`` frame, local ``centre`` and ``radii`` (m), ``colour`` key,
    optional pitch about the segment's x axis (degrees), whether it casts a floor shadow, and an
    optional ``name`` for the parts others refer to (the ears, whose midpoint is the head joint)."""

    segment: str
    centre: tuple[float, float, float]
    radii: tuple[float, float, float]
    colour: str
    pitch_deg: float = 0.0
    shadow: bool = True
    name: str = ""


def _head_parts() -> list[Part]:
    # Head frame origin: the centre of the head at ear level (the skeleton's ``head`` joint).
    parts = [
        Part("head", (0, 0.015, 0.012), (0.077, 0.115, 0.097), "skin"),
        Part("head", (0, 0.045, -0.02), (0.085, 0.1, 0.1), "hair"),                           # hair cap
        Part("head", (0, -0.012, 0.11), (0.012, 0.024, 0.02), "skin", pitch_deg=-12, shadow=False),  # nose
        Part("head", (0, -0.05, 0.096), (0.024, 0.007, 0.01), "lips", shadow=False),
        Part("neck", (0, 0.05, -0.008), (0.05, 0.08, 0.052), "skin"),
    ]
    for sign, side in ((1.0, "left"), (-1.0, "right")):
        parts += [
            Part("head", (sign * 0.032, 0.014, 0.093), (0.015, 0.009, 0.011), "eye_white", shadow=False),
            Part("head", (sign * 0.032, 0.014, 0.101), (0.0065, 0.0065, 0.0065), "pupil", shadow=False),
            Part("head", (sign * 0.033, 0.036, 0.098), (0.019, 0.0045, 0.009), "brow", shadow=False),
            Part("head", (sign * 0.079, 0.0, 0.0), (0.014, 0.03, 0.02), "skin", shadow=False,
                 name=f"{side}_ear"),
        ]
    return parts


def _limb_parts() -> list[Part]:
    parts = [
        Part("pelvis", (0, 0.035, -0.005), (0.152, 0.105, 0.1), "trousers"),
        Part("lumbar", (0, 0.13, 0.0), (0.148, 0.16, 0.094), "shirt"),
        Part("chest", (0, 0.09, 0.003), (0.162, 0.21, 0.1), "shirt"),
        Part("chest", (0, 0.2, -0.008), (0.19, 0.06, 0.072), "shirt"),  # shoulder line
        Part("lumbar", (0, 0.045, 0.0), (0.15, 0.024, 0.103), "belt", shadow=False),
    ]
    for side in ("l", "r"):
        parts += [
            Part(f"{side}_upper_arm", (0, -0.02, 0), (0.05, 0.06, 0.055), "shirt"),     # deltoid
            Part(f"{side}_upper_arm", (0, -0.08, 0), (0.052, 0.095, 0.054), "shirt"),   # sleeve
            Part(f"{side}_upper_arm", (0, -0.17, 0), (0.042, 0.13, 0.044), "skin"),
            Part(f"{side}_forearm", (0, -0.08, 0), (0.04, 0.09, 0.043), "skin"),
            Part(f"{side}_forearm", (0, -0.17, 0), (0.032, 0.1, 0.034), "skin"),
            Part(f"{side}_hand", (0, -0.06, 0.004), (0.021, 0.055, 0.043), "skin"),     # palm
            Part(f"{side}_hand", (0, -0.125, 0.0), (0.017, 0.05, 0.038), "skin"),      # fingers
            Part(f"{side}_hand", (0, -0.05, 0.045), (0.016, 0.035, 0.015), "skin", pitch_deg=25),  # thumb
            Part(f"{side}_thigh", (0, -0.2, 0.0), (0.082, 0.27, 0.086), "trousers"),
            Part(f"{side}_shank", (0, 0.0, 0.006), (0.058, 0.06, 0.06), "trousers"),    # knee
            Part(f"{side}_shank", (0, -0.2, -0.004), (0.056, 0.24, 0.06), "trousers"),
            Part(f"{side}_shank", (0, -0.14, -0.014), (0.06, 0.12, 0.066), "trousers"),  # calf
            Part(f"{side}_foot", SHOE_CENTRE, SHOE_RADII, "shoes"),
            Part(f"{side}_foot", (0, -0.01, -0.01), (0.05, 0.05, 0.06), "shoes"),       # ankle collar
        ]
    return parts


FIGURE_PARTS: tuple[Part, ...] = tuple(_limb_parts() + _head_parts())


@dataclass
class Primitives:
    """Posed ellipsoids, arrays over the P parts.

    Attributes:
        centres: (P, 3) centres.  axes: (P, 3, 3) rotations whose columns are the principal axes.
        radii: (P, 3) semi-axes (m).  colours: (P, 3) BGR albedo, float 0-255.
        casts_shadow: (P,) bool.
    """

    centres: np.ndarray
    axes: np.ndarray
    radii: np.ndarray
    colours: np.ndarray
    casts_shadow: np.ndarray


class Figure:
    """The figure's parts with their colours resolved; ``place`` poses them on a skeleton.

    Args:
        palette_index: which entry of ``PALETTES`` dresses the figure (taken modulo their number).
    """

    def __init__(self, palette_index: int = 0, parts: tuple[Part, ...] = FIGURE_PARTS) -> None:
        colours = {**PALETTES[palette_index % len(PALETTES)], **_FIXED_COLOURS}
        self.parts = parts
        self.segments = sorted({p.segment for p in parts})
        self._segment_of = np.array([self.segments.index(p.segment) for p in parts])
        self._local_centres = np.array([p.centre for p in parts], dtype=np.float64)
        self._local_axes = np.stack([rot_x(np.radians(p.pitch_deg)) for p in parts])
        self.radii = np.array([p.radii for p in parts], dtype=np.float64)
        self.colours = np.array([colours[p.colour] for p in parts], dtype=np.float32)
        self.casts_shadow = np.array([p.shadow for p in parts])

    def place(self, skeleton: Skeleton) -> Primitives:
        """World-space ellipsoids for ``skeleton`` (vectorised over all parts)."""
        origins = np.stack([skeleton.frames[s][0] for s in self.segments])[self._segment_of]
        rotations = np.stack([skeleton.frames[s][1] for s in self.segments])[self._segment_of]
        centres = origins + np.einsum("pij,pj->pi", rotations, self._local_centres)
        axes = rotations @ self._local_axes
        return Primitives(centres, axes, self.radii, self.colours, self.casts_shadow)
