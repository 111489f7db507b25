"""The live application behind ``run_live.py``: its options (``options``), the building of engines,
calibration and consumers from them (``build``), and the run itself (``run``).

This is the top room of ``realtime``: it may import every other room and ``calibration``; nothing
but ``run_live.py`` imports it.
"""
