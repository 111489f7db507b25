"""``python -m realtime.viewer``: the Open3D viewer's command line (``realtime.viewer.cli``)."""
import sys

from realtime.viewer.cli import main

sys.exit(main())
