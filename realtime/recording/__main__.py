"""``python -m realtime.recording``: record a running stream (``realtime.recording.cli``)."""
import sys

from realtime.recording.cli import main

sys.exit(main())
