"""Offline: recorded videos and image folders to 3D sessions and exports, in one process or on Ray.

``realtime.batch.run.run_batch`` is the entry point (``python -m tools.process`` its command line);
docs/offline.md describes the two passes (per frame on the live pipeline, then the whole clip), the
chunks of long videos, resuming, Ray, and what was measured.
"""
