"""The index at the end of an MCAP session file (its summary section), read defensively.

A session closed cleanly ends with a summary: the channels, the message count of every channel, and
the offset and length of every chunk and metadata record. When the middle of a file is damaged, the
summary still says how many frames were written and where every chunk is, so that the reader can
skip the damage instead of losing everything after it.
"""
from __future__ import annotations

import logging

from mcap.reader import SeekingReader, Summary

log = logging.getLogger(__name__)


def read_summary(handle, size: int) -> Summary | None:
    """The file's summary, or None when it has none or it cannot be read (cut short, damaged)."""
    try:
        summary = SeekingReader(handle, validate_crcs=True, record_size_limit=size).get_summary()
    except Exception as exc:  # noqa: BLE001 - a damaged or missing footer: there is no index to use
        log.debug("no readable summary: %s: %s", type(exc).__name__, exc)
        return None
    return summary
