"""The demo's room, ray-cast once per scene: a wooden floor, walls with a skirting board, a door and
a framed picture, lit by a soft ceiling light, so that the detector sees a figure in a plausible
indoor scene rather than on a blank page.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realtime.demo.camera import PinholeCamera


@dataclass(frozen=True)
class Room:
    """Room extents (metres, world frame, floor at y = 0), and its colours (BGR).

    Args:
        back_wall_z: z of the wall behind the figure (the camera looks towards -z).
        side_wall_x: the side walls stand at x = +-side_wall_x.  ceiling_y: ceiling height.
        wall, floor_light, floor_dark, skirting, door, frame: colours.
    """

    back_wall_z: float = -2.4
    side_wall_x: float = 3.2
    ceiling_y: float = 2.7
    wall: tuple[int, int, int] = (178, 196, 205)
    side_wall: tuple[int, int, int] = (160, 182, 190)
    floor_light: tuple[int, int, int] = (95, 140, 180)
    floor_dark: tuple[int, int, int] = (60, 95, 135)
    skirting: tuple[int, int, int] = (225, 228, 230)
    door: tuple[int, int, int] = (70, 100, 130)
    frame: tuple[int, int, int] = (40, 45, 50)


def _hash01(i: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer (plank colours, texture)."""
    x = (i.astype(np.int64) * 73856093 + salt * 19349663) & 0xFFFFFF
    x = (x * 2654435761) & 0xFFFFFF
    return x.astype(np.float64) / float(0x1000000)


def _floor_colour(x: np.ndarray, z: np.ndarray, room: Room) -> np.ndarray:
    plank = np.floor(x / 0.16)
    offset = _hash01(plank, 1) * 1.7
    board = np.floor((z + offset) / 1.2)
    tone = 0.35 + 0.5 * _hash01(plank * 131 + board, 2)
    grain = 0.08 * np.sin(z * 23.0 + 4.0 * np.sin(x * 9.0 + plank)) * np.sin(z * 3.1 + plank)
    seam = (np.abs((x / 0.16) - np.round(x / 0.16)) < 0.03) | (np.abs(((z + offset) / 1.2) % 1.0) < 0.008)
    mix = np.clip(tone + grain, 0, 1)[..., None]
    colour = (1 - mix) * np.array(room.floor_dark) + mix * np.array(room.floor_light)
    return np.where(seam[..., None], colour * 0.6, colour)


def _back_wall_colour(x: np.ndarray, y: np.ndarray, room: Room) -> np.ndarray:
    colour = np.broadcast_to(np.array(room.wall, dtype=np.float64), x.shape + (3,)).copy()
    colour[y < 0.12] = room.skirting
    door = (x > 1.15) & (x < 2.05) & (y < 2.05)
    door_frame = (x > 1.08) & (x < 2.12) & (y < 2.12) & ~door
    colour[door] = room.door
    colour[door & (np.abs(x - 1.95) < 0.03) & (np.abs(y - 1.0) < 0.03)] = (60, 160, 200)  # handle
    colour[door_frame] = room.skirting
    picture = (x > -2.0) & (x < -0.95) & (y > 1.25) & (y < 1.95)
    inner = (x > -1.94) & (x < -1.01) & (y > 1.31) & (y < 1.89)
    colour[picture & ~inner] = room.frame
    # A simple landscape: sky, hills, a lake.
    hills = y < 1.5 + 0.08 * np.sin(x * 9.0)
    art = np.where(hills[..., None], np.array([70, 140, 90.0]), np.array([215, 180, 140.0]))
    art = np.where((y < 1.42)[..., None], np.array([150, 110, 60.0]), art)
    colour[inner] = art[inner]
    return colour


def room_background(camera: PinholeCamera, room: Room | None = None, supersample: int = 2) -> np.ndarray:
    """Render the empty room as seen by ``camera``.

    Args:
        camera: the scene camera.
        room: extents and colours; the default room when None.
        supersample: rays per pixel along each axis (antialiased edges), averaged with INTER_AREA.
    Returns:
        (H, W, 3) uint8 BGR image.
    """
    room = room or Room()
    width, height = camera.size
    s = supersample
    k = camera.matrix.copy()
    k[:2] *= s
    k[:2, 2] += (s - 1) / 2.0  # pixel centres of the fine grid inside the coarse pixel
    big = PinholeCamera(k, camera.rotation, camera.position, (width * s, height * s))
    rays = big.pixel_rays_world()
    c = camera.position
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(rays[..., 1] < 0, -c[1] / rays[..., 1], np.inf)
        t_ceiling = np.where(rays[..., 1] > 0, (room.ceiling_y - c[1]) / rays[..., 1], np.inf)
        t_back = np.where(rays[..., 2] < 0, (room.back_wall_z - c[2]) / rays[..., 2], np.inf)
        t_side = np.where(rays[..., 0] != 0, (np.sign(rays[..., 0]) * room.side_wall_x - c[0]) / rays[..., 0], np.inf)
    t_all = np.stack([t_floor, t_back, t_side, t_ceiling])
    surface = np.argmin(t_all, axis=0)
    t = np.min(t_all, axis=0)
    hit = c + rays * t[..., None]
    x, y, z = hit[..., 0], hit[..., 1], hit[..., 2]
    image = np.empty(rays.shape, dtype=np.float64)
    image[:] = room.side_wall
    floor, back = surface == 0, surface == 1
    image[floor] = _floor_colour(x[floor], z[floor], room)
    image[back] = _back_wall_colour(x[back], y[back], room)
    side = surface == 2
    image[side & (y < 0.12)] = room.skirting
    image[surface == 3] = (225, 230, 232)
    # Soft ceiling light above the room's centre, darker corners (cheap ambient occlusion).
    light = np.array([0.0, room.ceiling_y - 0.2, -0.5])
    dist = np.linalg.norm(hit - light, axis=-1)
    shade = 0.55 + 0.55 / (1.0 + 0.12 * dist**2)
    corner = np.minimum.reduce([np.abs(y), np.abs(z - room.back_wall_z), room.side_wall_x - np.abs(x),
                                np.abs(room.ceiling_y - y)])
    shade *= 1.0 - 0.25 * np.exp(-corner / 0.12)
    image *= shade[..., None]
    image = cv2.resize(np.clip(image, 0, 255).astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    # Fixed sensor-like grain so that flat walls are not perfectly flat.
    grain = np.random.default_rng(12345).normal(0.0, 2.0, size=image.shape[:2])[..., None]
    return np.clip(image + grain, 0, 255).astype(np.uint8)
