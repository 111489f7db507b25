"""``realtime.recorder``: the recorder's API and command line, at their published name.

    python -m realtime.recorder --connect tcp://127.0.0.1:5555 --out recordings/

Everything lives in ``realtime.recording`` (recorder, session reader, replay, exports); this module
keeps the name that the README and users' programs import.
"""
import sys

from realtime.recording.cli import main
from realtime.recording.recorder import Recorder, RecorderOptions, RecordingError
from realtime.recording.session_reader import Session, SessionError, read_session

__all__ = ["Recorder", "RecorderOptions", "RecordingError", "Session", "SessionError", "main", "read_session"]

if __name__ == "__main__":
    sys.exit(main())
