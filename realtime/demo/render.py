"""Software renderer of the demo figure: analytic ray casting of ellipsoids into a z-buffer.

For each ellipsoid only the pixels of its projected bounding box are touched. A ray through pixel
(x, y) of the normalised image plane is ``d = (x, y, 1)``, so the ray parameter of a hit is directly
its depth z. An ellipsoid ``(p - c)^T Q (p - c) = 1`` meets the ray where ``a t^2 - 2 b t + k = 0``
with ``a = d^T Q d``, ``b = d^T Q c``, ``k = c^T Q c - 1``; ``a`` and ``b`` separate into per-row and
per-column terms plus one ``x*y`` product, so a primitive costs a handful of numpy operations on its box.
Shading is deferred: after all primitives, the surviving pixels get their normal ``Q (p - c)`` and
Lambert shading (wrapped for the key light) from a key and a fill light plus a sky/ground ambient term,
screen-space occlusion and a small highlight. The figure's box is
rendered with ``supersample`` x ``supersample`` rays per pixel and averaged (antialiasing). The floor
shadow is each ellipsoid's outline projected along the ceiling light onto the floor, softened by a blur.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realtime.demo.camera import PinholeCamera
from realtime.demo.figure import Primitives

# Unit vectors sampling an ellipsoid's outline for its shadow (axes and diagonals).
_SPHERE_SAMPLES = np.array([[sx, sy, sz] for sx in (-1, 0, 1) for sy in (-1, 0, 1) for sz in (-1, 0, 1)
                            if (sx, sy, sz) != (0, 0, 0)], dtype=np.float64)
_SPHERE_SAMPLES /= np.linalg.norm(_SPHERE_SAMPLES, axis=1, keepdims=True)
_BOX_CORNERS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)


@dataclass(frozen=True)
class Lighting:
    """Lights in the world frame (unit vectors towards the light) and their strengths.

    Args:
        key: main light direction.  fill: secondary light direction.
        shadow_light: direction of the light that casts the floor shadow (the room's ceiling light,
            steeper than the key so that the shadow stays near the feet).
        key_strength, fill_strength: Lambert weights.  ambient: constant term.  sky: extra ambient
            on surfaces facing up (and less on those facing down).  specular: highlight strength.
        shadow_strength: how much the floor shadow darkens the floor (0-1).
        occlusion: how much a surface just behind a nearer one is darkened (0-1).
        wrap: "wrap" diffuse lighting, which lets the key light reach past the terminator by this much
            (0 = plain Lambert); softer, skin- and cloth-like falloff without a hard edge.
    """

    key: tuple[float, float, float] = (-0.4, 0.45, 0.9)
    fill: tuple[float, float, float] = (0.8, 0.2, 0.5)
    shadow_light: tuple[float, float, float] = (-0.3, 1.0, 0.35)
    key_strength: float = 0.72
    fill_strength: float = 0.22
    ambient: float = 0.32
    sky: float = 0.06
    specular: float = 0.10
    shadow_strength: float = 0.45
    occlusion: float = 0.35
    wrap: float = 0.4


class FigureRenderer:
    """Draws posed ellipsoids over a fixed background.

    Args:
        camera: the scene camera.
        background: (H, W, 3) uint8 BGR image of the empty scene.
        lighting: lights and shadow settings.
        supersample: rays per pixel along each axis inside the figure's box (1 = no antialiasing).
    """

    def __init__(self, camera: PinholeCamera, background: np.ndarray, lighting: Lighting | None = None,
                 supersample: int = 2) -> None:
        self.camera = camera
        self.background = background
        self.lighting = lighting or Lighting()
        self.supersample = int(supersample)
        width, height = camera.size
        s = self.supersample
        k = camera.matrix
        # Normalised image coordinates of every fine sample (pixel centres at integer coordinates).
        self._xn = (((np.arange(width * s) + 0.5) / s - 0.5 - k[0, 2]) / k[0, 0]).astype(np.float32)
        self._yn = (((np.arange(height * s) + 0.5) / s - 0.5 - k[1, 2]) / k[1, 1]).astype(np.float32)
        unit = lambda v: np.asarray(v, float) / np.linalg.norm(v)  # noqa: E731
        self._key = camera.directions_to_camera(unit(self.lighting.key)).astype(np.float32)
        self._fill = camera.directions_to_camera(unit(self.lighting.fill)).astype(np.float32)
        self._up = camera.directions_to_camera(np.array([0.0, 1.0, 0.0])).astype(np.float32)
        self._shadow_dir = unit(self.lighting.shadow_light)

    def render(self, prims: Primitives) -> np.ndarray:
        """Render ``prims`` (world frame) and return an (H, W, 3) uint8 BGR image."""
        image = self.background.copy()
        self._draw_shadow(image, prims)
        centres = self.camera.to_camera(prims.centres)
        axes = np.einsum("ij,pjk->pik", self.camera.rotation, prims.axes)
        boxes = self._pixel_boxes(centres, axes, prims.radii)
        if boxes is None:
            return image
        (x0, y0, x1, y1), prim_boxes = boxes
        quad = np.einsum("pij,pj,pkj->pik", axes, 1.0 / prims.radii**2, axes)  # Q = A diag(1/r^2) A^T
        lin = np.einsum("pij,pj->pi", quad, centres)                          # Q c
        const = np.einsum("pi,pi->p", lin, centres) - 1.0                     # c^T Q c - 1
        # float32 from here: the per-pixel work is bandwidth-bound. Measured against float64 on three
        # frames: 0.03 % of the samples change their nearest part, all on boundaries between parts,
        # and depths differ by at most 1.2 mm (p99 0.1 mm).
        quad, lin, const = quad.astype(np.float32), lin.astype(np.float32), const.astype(np.float32)
        depth, ids = self._raycast(quad, lin, const, (x0, y0, x1, y1), prim_boxes)
        self._shade_into(image, (x0, y0, x1, y1), depth, ids, quad, lin, prims.colours)
        return image

    def _pixel_boxes(self, centres, axes, radii):
        """Per-primitive pixel bounding boxes (projected oriented-box corners) and their union."""
        corners = centres[:, None, :] + np.einsum("pij,pcj->pci", axes, _BOX_CORNERS[None] * radii[:, None, :])
        if np.any(corners[..., 2] <= 0.05):
            raise ValueError("a body part is behind or at the camera; the demo camera is misplaced")
        px = self.camera.project(corners)
        lo = np.floor(px.min(axis=1)).astype(int) - 1
        hi = np.ceil(px.max(axis=1)).astype(int) + 2
        width, height = self.camera.size
        lo = np.maximum(lo, 0)
        hi = np.minimum(hi, [width, height])
        visible = np.all(hi > lo, axis=1)
        if not visible.any():
            return None
        union = (lo[visible, 0].min(), lo[visible, 1].min(), hi[visible, 0].max(), hi[visible, 1].max())
        return union, (lo, hi, visible)

    def _raycast(self, quad, lin, const, union, prim_boxes):
        """Z-buffer of the nearest hit depth and primitive id over the figure's fine-sample box."""
        x0, y0, x1, y1 = union
        s = self.supersample
        lo, hi, visible = prim_boxes
        xs, ys = self._xn[x0 * s:x1 * s], self._yn[y0 * s:y1 * s]
        depth = np.full((len(ys), len(xs)), np.inf, dtype=np.float32)
        ids = np.full((len(ys), len(xs)), -1, dtype=np.int16)
        for i in np.flatnonzero(visible):
            c0, r0 = (lo[i] - [x0, y0]) * s
            c1, r1 = (hi[i] - [x0, y0]) * s
            x, y = xs[c0:c1], ys[r0:r1]
            q, g = quad[i], lin[i]
            a = (q[1, 1] * y * y + 2 * q[1, 2] * y + q[2, 2])[:, None] + (q[0, 0] * x * x + 2 * q[0, 2] * x) \
                + (2 * q[0, 1] * y)[:, None] * x
            b = (g[1] * y + g[2])[:, None] + g[0] * x
            disc = b * b - a * const[i]
            hit = disc > 0
            np.maximum(disc, 0.0, out=disc)
            t = (b - np.sqrt(disc)) / a
            zbox = depth[r0:r1, c0:c1]
            closer = hit & (t < zbox)
            zbox[closer] = t[closer]
            ids[r0:r1, c0:c1][closer] = i
        return depth, ids

    def _shade_into(self, image, union, depth, ids, quad, lin, colours) -> None:
        """Deferred Lambert shading of the hit samples, supersample averaging, paste into ``image``."""
        x0, y0, x1, y1 = union
        s = self.supersample
        light = self.lighting
        width = ids.shape[1]
        flat = np.flatnonzero(ids >= 0)
        pid = ids.ravel()[flat]
        t = depth.ravel()[flat]
        rows, cols = np.divmod(flat, width)
        x = self._xn[x0 * s + cols]
        y = self._yn[y0 * s + rows]
        # Normal ~ Q (p - c) = t Q d - Q c with d = (x, y, 1); one gather of the six Q entries and Q c.
        tab = np.concatenate([quad[:, 0, :], quad[:, 1, 1:], quad[:, 2, 2:], lin], axis=1).astype(np.float32)[pid]
        q00, q01, q02, q11, q12, q22, g0, g1, g2 = tab.T
        nx = t * (q00 * x + q01 * y + q02) - g0
        ny = t * (q01 * x + q11 * y + q12) - g1
        nz = t * (q02 * x + q12 * y + q22) - g2
        inv = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
        nx *= inv
        ny *= inv
        nz *= inv
        key, fill, up = self._key, self._fill, self._up
        n_key = nx * key[0] + ny * key[1] + nz * key[2]
        shade = light.ambient + light.sky * (nx * up[0] + ny * up[1] + nz * up[2]) \
            + light.key_strength * np.clip((n_key + light.wrap) / (1.0 + light.wrap), 0.0, 1.0) \
            + light.fill_strength * np.maximum(nx * fill[0] + ny * fill[1] + nz * fill[2], 0.0)
        # Facing ratio n . v with v = -d / |d|: darker towards the silhouette separates overlapping
        # parts of the same colour.
        inv_d = 1.0 / np.sqrt(x * x + y * y + 1.0)
        n_view = -(nx * x + ny * y + nz) * inv_d
        shade *= 0.72 + 0.28 * np.clip(n_view, 0.0, 1.0)
        # Blinn-Phong highlight: half vector between the light and the view direction.
        hx, hy, hz = key[0] - x * inv_d, key[1] - y * inv_d, key[2] - inv_d
        inv_h = 1.0 / np.sqrt(hx * hx + hy * hy + hz * hz)
        spec = np.clip((nx * hx + ny * hy + nz * hz) * inv_h, 0.0, 1.0) ** 32 * (light.specular * 255.0)
        shade *= self._occlusion(depth).ravel()[flat]
        colour = colours[pid] * shade[:, None] + spec[:, None]
        fine = cv2.resize(image[y0:y1, x0:x1], (ids.shape[1], ids.shape[0]), interpolation=cv2.INTER_NEAREST)
        fine = fine.astype(np.float32)
        fine.reshape(-1, 3)[flat] = colour
        if s > 1:
            fine = cv2.resize(fine, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        image[y0:y1, x0:x1] = np.clip(fine, 0, 255).astype(np.uint8)

    def _occlusion(self, depth: np.ndarray) -> np.ndarray:
        """Screen-space ambient occlusion: a surface just behind a nearer one nearby gets darker.

        Gives contact shadows and crisp separation where a limb passes in front of the body.
        """
        radius = 2 * self.supersample + 1
        near = cv2.erode(np.minimum(depth, 100.0), np.ones((radius, radius), np.uint8))
        behind = np.clip((depth - near) / 0.12, 0.0, 1.0)
        return 1.0 - self.lighting.occlusion * behind

    def _draw_shadow(self, image: np.ndarray, prims: Primitives) -> None:
        """Darken the floor under the figure: ellipsoid outlines projected along the shadow light."""
        sel = prims.casts_shadow
        pts = prims.centres[sel, None, :] + np.einsum(
            "pij,pcj->pci", prims.axes[sel], _SPHERE_SAMPLES[None] * prims.radii[sel, None, :])
        light = self._shadow_dir
        on_floor = pts - (pts[..., 1:2] / light[1]) * light  # slide along the light to y = 0
        px = self.camera.project(self.camera.to_camera(on_floor))
        width, height = self.camera.size
        margin = 12
        lo = np.maximum(np.floor(px.reshape(-1, 2).min(axis=0)).astype(int) - margin, 0)
        hi = np.minimum(np.ceil(px.reshape(-1, 2).max(axis=0)).astype(int) + margin, [width, height])
        if np.any(hi <= lo):
            return
        mask = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), dtype=np.uint8)
        for outline in px:
            hull = cv2.convexHull(np.round((outline - lo) * 4).astype(np.int32))
            cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA, shift=2)
        mask = cv2.GaussianBlur(mask, (0, 0), 3.0)
        factor = 1.0 - self.lighting.shadow_strength * (mask.astype(np.float32) / 255.0)
        region = image[lo[1]:hi[1], lo[0]:hi[0]]
        region[:] = (region * factor[..., None]).astype(np.uint8)
