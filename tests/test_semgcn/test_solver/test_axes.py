"""Changes of axes: a quaternion converted is the rotation M R M^T, proper or mirrored M alike."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from semgcn.solver.axes import (CAMERA_TO_SOLVER, SOLVER_TO_BLENDER, SOLVER_TO_UNITY, SOLVER_TO_UNREAL,
                                Z_UP_TO_Y_UP, convert_points, convert_quaternions, world_to_solver)


@pytest.mark.parametrize("m, handedness", [(SOLVER_TO_UNITY, -1), (SOLVER_TO_UNREAL, -1), (SOLVER_TO_BLENDER, 1),
                                           (CAMERA_TO_SOLVER, 1), (Z_UP_TO_Y_UP, 1)])
def test_converted_quaternions_rotate_converted_points_as_the_originals_did(m, handedness):
    assert np.linalg.det(m) == pytest.approx(handedness)
    rotations = Rotation.random(50, random_state=1)
    points = np.random.default_rng(2).normal(size=(50, 3))
    converted = Rotation.from_quat(convert_quaternions(rotations.as_quat(), m))
    np.testing.assert_allclose(converted.apply(convert_points(points, m)), convert_points(rotations.apply(points), m),
                               atol=1e-12)


def test_the_documented_quaternion_rules():
    x, y, z, w = 0.1, 0.2, 0.3, 0.927
    q = np.array([x, y, z, w])
    np.testing.assert_allclose(convert_quaternions(q, SOLVER_TO_UNITY), [x, -y, -z, w])
    np.testing.assert_allclose(convert_quaternions(q, SOLVER_TO_UNREAL), [-z, x, -y, w])
    np.testing.assert_allclose(convert_quaternions(q, SOLVER_TO_BLENDER), [x, -z, y, w])


def test_the_t_pose_in_unity_faces_plus_z_with_its_right_hand_at_plus_x():
    left_hand, forward = convert_points([1.0, 0, 0], SOLVER_TO_UNITY), convert_points([0, 0, 1.0], SOLVER_TO_UNITY)
    assert left_hand[0] < 0 and forward[2] > 0
    with pytest.raises(ValueError, match="'y' or 'z'"):
        world_to_solver("x")
