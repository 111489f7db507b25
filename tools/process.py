"""Offline: a folder of videos to 3D, in this process or on a Ray cluster (docs/offline.md).

    python -m tools.process clips/*.mp4 --out out/ --to bvh,csv,json
    python -m tools.process clips/ --out /shared/out --ray local --workers 2

The options and what they do: ``python -m tools.process --help`` (``realtime.batch.cli``).
"""
from __future__ import annotations

import sys

from realtime.batch.cli import main

if __name__ == "__main__":
    sys.exit(main())
