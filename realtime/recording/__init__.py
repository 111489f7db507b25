"""Recording: the MCAP session format, the recorder, the reader, replay and the exports (docs/recording.md).

``python -m realtime.recording`` (or ``python -m realtime.recorder``) records a running stream.
"""
