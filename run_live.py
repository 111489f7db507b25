#!/usr/bin/env python
"""Real-time 3D human pose: camera -> 2D detector -> SemGCN lifter -> ZeroMQ stream.

    python run_live.py --source demo          # the built-in animated figure, no camera needed
    python run_live.py --help                 # every option

The application lives in ``realtime.app`` (options, building the parts, running them).
"""
import sys

from realtime.app.run import main

if __name__ == "__main__":
    sys.exit(main())
