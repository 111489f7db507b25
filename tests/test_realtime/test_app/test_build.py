"""run_live's engine settings reach the engines: --no-flip-test lifts each pose once."""
from __future__ import annotations

import numpy as np

from realtime.app.build import make_lifter
from realtime.app.options import build_parser


def test_flip_test_is_on_by_default_and_can_be_turned_off():
    assert build_parser().parse_args([]).flip_test is True
    assert build_parser().parse_args(["--no-flip-test"]).flip_test is False


def test_make_lifter_passes_the_flip_setting_to_a_real_session():
    with_flip, without = make_lifter("onnxruntime", None), make_lifter("onnxruntime", None, flip_test=False)
    assert with_flip.options.flip_test and not without.options.flip_test
    kp = np.random.default_rng(0).uniform(200, 400, size=(16, 2))
    a, b = with_flip.predict(kp, (640, 480)), without.predict(kp, (640, 480))
    assert a.shape == b.shape == (16, 3)
    assert np.abs(a - b).max() > 1e-4  # the mirrored pass changes the answer
