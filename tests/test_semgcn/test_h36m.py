"""Human3.6M loader on tiny files in the VideoPose3D / SemGCN npz format, written by the test."""
from __future__ import annotations

import numpy as np
import pytest

from semgcn import codec
from semgcn import skeleton as S
from semgcn.datasets.h36m import (H36M_KEEP, TEST_SUBJECTS, TRAIN_SUBJECTS, camera, load_h36m_protocol1,
                                  load_split, to_16)


def _world_32(frames: int, seed: int) -> np.ndarray:
    """(T, 32, 3) metres, z up (Human3.6M's world), a body near the origin with a distinct value per joint."""
    rng = np.random.default_rng(seed)
    base = np.zeros((32, 3))
    base[:, 2] = np.linspace(0.1, 1.8, 32)
    base[:, 0] = rng.uniform(-0.3, 0.3, 32)
    base[:, 1] = rng.uniform(-0.2, 0.2, 32)
    walk = np.linspace(0, 0.5, frames)[:, None, None] * np.array([1.0, 0.0, 0.0])
    return (base[None] + walk).astype(np.float32)


def write_h36m_npz(folder, subjects, frames=10, mm=False, with_2d=True, joints_2d=17):
    pos3d = {s: {"Walking 1": _world_32(frames, i), "Eating": _world_32(frames, 10 + i)}
             for i, s in enumerate(subjects)}
    if mm:
        pos3d = {s: {a: v * 1000.0 for a, v in acts.items()} for s, acts in pos3d.items()}
    np.savez_compressed(folder / "data_3d_h36m.npz", positions_3d=pos3d)
    if with_2d:
        pos2d = {}
        for s, acts in pos3d.items():
            pos2d[s] = {}
            for a, world in acts.items():
                world = world / (1000.0 if mm else 1.0)
                views = []
                for c in range(4):
                    cam = camera(s, c)
                    px32 = cam.project(cam.world_to_camera(world))
                    if joints_2d == 17:   # VideoPose3D keeps 17: the 16 plus neck/nose (32-index 14)
                        px = px32[:, [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]]
                        px[:, 9] = -999.0  # the nose: must be dropped, never used
                    else:
                        px = px32[:, list(H36M_KEEP)]
                    views.append(px.astype(np.float32))
                pos2d[s][a] = views
        np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=pos2d,
                            metadata={"num_joints": joints_2d, "keypoints_symmetry": [[], []]})


def test_joint_selection():
    x = np.arange(32)[:, None] * np.ones((1, 3))
    assert to_16(x)[:, 0].tolist() == list(H36M_KEEP)
    assert H36M_KEEP[9] == 15  # Human3.6M's head (top) becomes our head joint
    with pytest.raises(ValueError, match="32, 17 or 16"):
        to_16(np.zeros((5, 3)))


@pytest.mark.parametrize("mm,joints_2d", [(False, 17), (True, 16)])
def test_protocol1_split_shapes_and_consistency(tmp_path, mm, joints_2d):
    write_h36m_npz(tmp_path, TRAIN_SUBJECTS + TEST_SUBJECTS, frames=10, mm=mm, joints_2d=joints_2d)
    data = load_h36m_protocol1(tmp_path, stride=5)
    # 5 train subjects x 2 actions x 4 cameras x 2 frames (10 frames, stride 5); 2 test subjects.
    assert data.train[0].shape == (5 * 2 * 4 * 2, 16, 2) and data.train[1].shape == (80, 16, 3)
    assert data.test[0].shape == (2 * 2 * 4 * 2, 16, 2)
    x, y = data.test
    np.testing.assert_allclose(y[:, S.ROOT], 0.0, atol=1e-6)
    assert np.isfinite(x).all() and np.abs(x).max() < 5  # the nose's -999 was dropped
    # Targets are camera-frame metres: the body spans ~1.7 m, whatever the file's unit.
    span = np.linalg.norm(y[:, 9] - y[:, 0], axis=-1)
    assert 0.3 < span.mean() < 2.0
    # The inputs are the codec's normalisation of the 2D with the camera's own intrinsics.
    cam = camera("S9", 0)
    world = _world_32(10, 5)[::5]  # S9 is the 6th subject written: seed 5 for "Walking 1"
    px = cam.project(cam.world_to_camera(to_16(world.astype(np.float64))))
    expected = codec.normalize_2d(px, cam.image_size, cam.focal, cam.center)
    # S9's actions in sorted order: "Eating" then "Walking 1"; camera 0 of the latter:
    start = 4 * 2  # after Eating's 4 cameras x 2 frames
    np.testing.assert_allclose(x[start:start + 2], expected, atol=1e-4)


def test_without_2d_file_the_3d_is_projected(tmp_path):
    write_h36m_npz(tmp_path, ("S1",), with_2d=False)
    x, y = load_split(tmp_path, ("S1",), stride=1)
    assert x.shape == (2 * 4 * 10, 16, 2) and y.shape == (80, 16, 3)


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_3d_h36m.npz"):
        load_split(tmp_path, ("S1",))
    write_h36m_npz(tmp_path, ("S1",))
    with pytest.raises(ValueError, match="no subject S9"):
        load_split(tmp_path, ("S9",))
