"""What every command line of the project shares: library log records as one-line messages.

Library modules log through ``logging``; a command line calls ``configure_logging()`` once, so that a
warning reaches the user as ``warning: <message>`` on stderr, like the command's own messages.
"""
from __future__ import annotations

import logging
import sys


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def configure_logging(level: int = logging.WARNING) -> None:
    """Send log records of ``level`` and above to stderr as ``level: message`` lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logging.basicConfig(level=level, handlers=[handler], force=True)
