"""The BlazePose error model: the fit recovers a model it generated, views come from the 3D, and the
committed fitted file is sane."""
from __future__ import annotations

import numpy as np
import pytest

from realtime.demo.kinematics import POSE_PARAMS, BodyShape, forward_kinematics
from semgcn.datasets import detector_errors as de
from semgcn.datasets.cameras import sample_cameras


def _views(n: int, seed: int = 0):
    """Bodies seen by random cameras: ``(pixels, absolute camera-frame joints)``."""
    rng = np.random.default_rng(seed)
    world = np.stack([forward_kinematics({k: rng.uniform(-0.4, 0.4) for k in POSE_PARAMS}, BodyShape(),
                                         rng.uniform(0, 6.3), np.array([0.0, 0.95, 0.0])).joints for _ in range(n)])
    cams = sample_cameras(rng, world)
    cam = cams.world_to_camera(world)
    return cams.project(cam), cam


def _model(**changes) -> de.DetectorErrorModel:
    zeros = [[[0.0, 0.0]] * 16] * 3
    base = dict(hip_width=[1.15, 1.0, 0.9], shoulder_width=[1.1, 1.0, 0.95], offset_uv=zeros,
                sigma_uv=[[[0.03, 0.02]] * 16] * 3, outlier_rate=[0.0] * 3, outlier_sigma=0.0,
                full_swap=[0.0, 0.0, 0.15], limb_swap=[0.0] * 3)
    base.update(changes)
    return de.DetectorErrorModel(**base)


def test_views_follow_where_the_body_faces():
    pixels, cam = _views(400)
    views = de.view_bucket(cam)
    assert set(np.unique(views)) == {0, 1, 2}
    turned = cam.copy()
    turned[..., [0, 2]] -= turned[:, :1, [0, 2]]                 # turn every body 180 degrees about its
    turned[..., [0, 2]] *= -1                                    # vertical axis, in place
    turned[..., [0, 2]] += cam[:, :1, [0, 2]]
    flipped = de.view_bucket(turned)
    assert (flipped[views == 0] == 2).mean() > 0.95 and (flipped[views == 2] == 0).mean() > 0.95


def test_fit_recovers_widths_offsets_spread_and_swaps():
    pixels, cam = _views(3000, seed=1)
    offsets = [[[0.0, 0.0]] * 16 for _ in range(3)]
    for view in range(3):
        offsets[view][0] = [-0.05, 0.0]                          # pelvis lower, as BlazePose puts it
    truth_model = _model(offset_uv=offsets)
    detected = de.apply(np.random.default_rng(2), pixels, cam, truth_model)
    fitted = de.fit(detected, pixels, cam)
    np.testing.assert_allclose(fitted.hip_width, truth_model.hip_width, atol=0.05)
    np.testing.assert_allclose(fitted.shoulder_width, truth_model.shoulder_width, atol=0.05)
    assert fitted.offset_uv[0][0][0] == pytest.approx(-0.05, abs=0.01)
    assert np.median(fitted.sigma_uv) == pytest.approx(0.025, abs=0.01)
    assert fitted.full_swap[2] == pytest.approx(0.15, abs=0.05) and fitted.full_swap[0] < 0.02


def test_the_shipped_fit_is_sane():
    model = de.DetectorErrorModel.load()
    assert model.frames > 1000 and "training people" in model.source
    assert all(0.5 < w < 1.5 for w in model.hip_width + model.shoulder_width)
    assert 0.0 < np.median(model.sigma_uv) < 0.2 and all(0 <= p < 0.5 for p in model.full_swap)
