"""The live application behind ``run_live.py``: its options (``options``), the building of engines,
calibration and consumers from them (``build``), and the run itself (``run``).

It may import every other room of ``realtime`` but ``realtime.batch``, and ``calibration``; only the
rooms above it import it: ``run_live.py``, ``realtime.batch`` (the engines, calibration and one-line
errors of offline runs) and ``tools``.
"""
