"""Timing statistics: percentiles and bounded memory."""
from __future__ import annotations

import numpy as np
import pytest

from realtime.core.stats import Series, summarize


def test_latency_summary_percentiles():
    s = summarize(range(1, 101))
    assert (s.count, s.p50_ms, s.max_ms) == (100, 50.5, 100.0) and s.p99_ms == pytest.approx(99.01)
    assert np.isnan(summarize([]).p50_ms)
    series = Series(window=10)
    for v in range(25):
        series.add(v)
    assert series.total_count == 25 and series.samples() == list(range(15, 25))  # bounded memory
