"""The inbox's layout and the words shared by its reader and its hand-off (`tasks.intake.inbox`):
the folders a run keeps in the inbox, the time limits of a claim, a file's signature, the names
a file is filed under and the temporary names left alone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

SUFFIXES = (".json", ".csv", ".xlsx")
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", "~", ".swp", ".lock")
CLAIMED, PROCESSED, REJECTED, LEASES = ".claimed", "processed", "rejected", ".leases"
OWN_FOLDERS = (CLAIMED, PROCESSED, REJECTED)
STABLE_SECONDS_DEFAULT = 2.0
SETTLED_SECONDS = 30.0  # untouched this long: already stable across any two looks a few seconds apart
LEASE_RENEW_SECONDS = 20.0
LEASE_EXPIRY_SECONDS = 600.0
LEGACY_STALE_SECONDS = 15 * 60  # only for claims named by older versions on another host
Signature = tuple[int, int, int]  # (size, mtime_ns, inode)


def signature_of(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def is_temporary(name: str) -> bool:
    lower = name.lower()
    return lower.startswith((".", "~$")) or lower.endswith(TEMP_SUFFIXES)


MAX_NAME_BYTES = 160  # leaves room for the claim prefix and `-N.errors.json` within 255 bytes


def safe_name(name: str) -> str:
    """The name a file is filed and reported under: valid UTF-8, no control characters, short
    enough to claim and to file beside its `.errors.json` (a long name keeps its start, a
    digest of the whole and its extension)."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", "replace")
    text = "".join(ch if ch >= " " and ch != "\x7f" else "_" for ch in text) or "_"
    if len(text.encode("utf-8")) <= MAX_NAME_BYTES:
        return text

    ext = Path(text).suffix[:10]
    digest = hashlib.sha256(raw).hexdigest()[:10]
    head = text.encode("utf-8")[: MAX_NAME_BYTES - len(ext) - 12].decode("utf-8", "ignore")
    return f"{head}~{digest}{ext}"
