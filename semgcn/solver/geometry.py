"""Small rotation helpers on 3x3 matrices and (x, y, z, w) quaternions, for one pose at a time.

The solver works on single frames in the live pipeline, where scipy's ``Rotation`` objects cost more
to build than the arithmetic they wrap (tens of microseconds each); these helpers are plain numpy on
3-vectors and 3x3 matrices. Batch conversions (matrices to quaternions for a whole skeleton) still go
through ``scipy.spatial.transform.Rotation``.

Conventions: rotation matrices act on column vectors; a bone's *frame* is the rotation taking its
rest axes to its current axes (the identity at rest); quaternions are (x, y, z, w), scipy's order.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation

EPS = 1e-9


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (``np.cross`` costs ten times more for a single pair)."""
    (a0, a1, a2), (b0, b1, b2) = a.tolist(), b.tolist()
    return np.array((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))


def norm(v: np.ndarray) -> float:
    """Length of a 3-vector."""
    return math.sqrt(float(v @ v))


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` divided by its length (the zero vector stays zero)."""
    n = norm(v)
    return v / n if n > EPS else np.zeros_like(v)


def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """The 3x3 rotation by ``angle`` radians about the unit ``axis`` (Rodrigues)."""
    x, y, z = axis.tolist()  # plain floats: element access on a numpy array costs more than the maths
    c, s = math.cos(angle), math.sin(angle)
    t = 1.0 - c
    return np.array((t * x * x + c, t * x * y - s * z, t * x * z + s * y,
                     t * x * y + s * z, t * y * y + c, t * y * z - s * x,
                     t * x * z - s * y, t * y * z + s * x, t * z * z + c)).reshape(3, 3)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The shortest-arc rotation taking direction ``a`` onto direction ``b`` (swing, no twist).

    Opposite directions have no unique shortest arc: any axis perpendicular to ``a`` is taken.
    """
    a, b = unit(a), unit(b)
    axis = cross(a, b)
    s, c = norm(axis), float(a @ b)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        helper = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        return axis_angle(unit(cross(a, helper)), math.pi)
    return axis_angle(axis / s, math.atan2(s, c))


def frame_from(primary: np.ndarray, primary_rest: np.ndarray, secondary: np.ndarray,
               secondary_rest: np.ndarray) -> np.ndarray | None:
    """The rotation taking ``primary_rest`` exactly onto ``primary`` and ``secondary_rest`` as close as
    possible to ``secondary`` (the rest axes must be perpendicular unit vectors).

    Returns None when a vector is too short or the two are parallel (no frame can be made).
    """
    e1 = unit(primary)
    s = secondary - float(secondary @ e1) * e1
    if not np.any(e1) or norm(s) < 1e-6 * max(1.0, norm(secondary)):
        return None
    e2 = unit(s)
    target = np.array([e1, e2, cross(e1, e2)]).T
    rest = np.array([primary_rest, secondary_rest, cross(primary_rest, secondary_rest)]).T
    return target @ rest.T


def rotation_angle(m: np.ndarray) -> float:
    """The angle (radians, 0..pi) of rotation matrix ``m``."""
    return math.acos(max(-1.0, min(1.0, (float(np.trace(m)) - 1.0) / 2.0)))


def quat_of(m: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, z, w) of one rotation matrix, w >= 0 (Shepperd's method: stable for every angle)."""
    m = m.tolist()
    t = m[0][0] + m[1][1] + m[2][2]
    if t > 0:
        s = 2.0 * math.sqrt(t + 1.0)
        q = ((m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s, 0.25 * s)
    elif m[0][0] > m[1][1] and m[0][0] > m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[0][0] - m[1][1] - m[2][2])
        q = (0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s, (m[2][1] - m[1][2]) / s)
    elif m[1][1] > m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[1][1] - m[0][0] - m[2][2])
        q = ((m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s, (m[0][2] - m[2][0]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2][2] - m[0][0] - m[1][1])
        q = ((m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s, (m[1][0] - m[0][1]) / s)
    return q if q[3] >= 0 else (-q[0], -q[1], -q[2], -q[3])


def to_rotvec(m: np.ndarray) -> np.ndarray:
    """Rotation vector (axis times angle) of a 3x3 rotation."""
    x, y, z, w = quat_of(m)
    s = math.sqrt(x * x + y * y + z * z)
    if s < 1e-12:
        return np.zeros(3)
    return np.array([x, y, z]) * (2.0 * math.atan2(s, w) / s)


def limit_angle(m: np.ndarray, max_angle: float) -> np.ndarray:
    """``m`` with its angle clamped to ``max_angle`` radians about the same axis (a cone limit)."""
    if rotation_angle(m) <= max_angle:
        return m
    v = to_rotvec(m)
    return axis_angle(unit(v), max_angle)


def twist_angle(m: np.ndarray, axis: np.ndarray) -> float:
    """The twist of rotation ``m`` about the unit ``axis`` (swing-twist decomposition), radians in
    (-pi, pi]: the part of ``m`` that turns about ``axis`` itself."""
    x, y, z, w = quat_of(m)
    along = x * axis[0] + y * axis[1] + z * axis[2]
    if abs(along) < 1e-12 and abs(w) < 1e-12:
        return 0.0  # a half turn about a perpendicular axis: no twist component
    return wrap(2.0 * math.atan2(along, w))


def wrap(angle: float) -> float:
    """``angle`` wrapped into [-pi, pi]."""
    return math.remainder(angle, 2.0 * math.pi)


def clamp(x: float, lo: float, hi: float) -> float:
    """``x`` limited to [lo, hi] (``np.clip`` is slow on single floats)."""
    return lo if x < lo else hi if x > hi else x


def smoothstep(x: float, lo: float, hi: float) -> float:
    """0 below ``lo``, 1 above ``hi``, a smooth cubic in between."""
    t = min(1.0, max(0.0, (x - lo) / (hi - lo)))
    return t * t * (3.0 - 2.0 * t)


def slerp_matrix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The rotation a fraction ``t`` of the way from ``a`` to ``b``."""
    if t <= 0.0:
        return a
    if t >= 1.0:
        return b
    rel = a.T @ b
    v = to_rotvec(rel)
    angle = norm(v)
    return a if angle < 1e-12 else a @ axis_angle(v / angle, t * angle)


def kabsch(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """The rotation R minimising sum w |R (s - s0) - (t - t0)|^2 over point pairs (weighted centroids
    removed); None when fewer than three points carry weight or they are collinear."""
    w = np.asarray(weights, dtype=np.float64)
    if np.count_nonzero(w > 0) < 3:
        return None
    w = w / w.sum()
    s = source - w @ source
    t = target - w @ target
    h = (s * w[:, None]).T @ t
    u, sv, vt = np.linalg.svd(h)
    if sv[1] < 1e-9 * max(sv[0], 1e-12):
        return None
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def quaternions(matrices: np.ndarray) -> np.ndarray:
    """(x, y, z, w) quaternions of a stack of rotation matrices (..., 3, 3), w >= 0."""
    q = Rotation.from_matrix(matrices.reshape(-1, 3, 3)).as_quat()
    q *= np.where(q[:, 3:] < 0, -1.0, 1.0)
    return q.reshape(*matrices.shape[:-2], 4)


def matrices(quats: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of (x, y, z, w) quaternions (..., 4)."""
    q = np.asarray(quats, dtype=np.float64)
    return Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(*q.shape[:-1], 3, 3)


def same_hemisphere(q: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """``q`` (..., 4) with each quaternion's sign chosen to agree with ``previous`` (q and -q are the
    same rotation; a receiver interpolating between frames must not see the sign flip)."""
    if previous is None:
        return q
    dots = np.sum(q * previous, axis=-1, keepdims=True)
    return np.where(dots < 0, -q, q)
