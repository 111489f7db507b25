"""File checksums that identify weights in logs, recordings, engine caches and model cards."""
from __future__ import annotations

import hashlib


def file_sha256(path) -> str:
    """Hex SHA-256 of a file, read in chunks by the standard library."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
