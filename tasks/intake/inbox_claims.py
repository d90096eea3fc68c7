"""Taking entries from the inbox: each ready entry is claimed by an atomic rename into `.claimed/`
once it is unchanged across two looks; links, folders and odd entries are taken only to be
refused; the claims of owners that are gone are taken back (`tasks.intake.inbox`)."""

from __future__ import annotations

import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from tasks.intake.inbox_layout import (
    CLAIMED,
    OWN_FOLDERS,
    SETTLED_SECONDS,
    STABLE_SECONDS_DEFAULT,
    Signature,
    is_temporary,
    safe_name,
    signature_of,
)
from tasks.intake.inbox_owners import claim_name, cleanup_temporary, hold_lease, owner_gone, parse_claim, tidy_leases


@dataclass(frozen=True)
class ClaimedFile:
    """An inbox entry now held by this run at `path`; `name` is its original name. `refusal` says
    why it is not read at all (a link, a folder, …); `seen` is its signature when it was taken."""

    name: str
    path: Path
    refusal: str | None = None
    seen: Signature | None = None


@dataclass
class InboxClaim:
    claimed: list[ClaimedFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # still being written: left for the next run


def refusal_of(st: os.stat_result) -> str | None:
    """Why an inbox entry (lstat) is refused unread, or None for a plain file."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "it is a symbolic link: links in the inbox are refused and their target is never read"
    if stat.S_ISDIR(mode):
        return "it is a folder: put files directly in the inbox"
    if not stat.S_ISREG(mode):
        return "it is not a regular file (a pipe, socket or device): it was not read"
    if st.st_nlink > 1:  # its contents live elsewhere too (a hard link to a file outside the inbox)
        return "it has other hard links (it may be a file from outside the inbox): it was not read"
    return None


def ensure_folders(inbox: Path) -> None:
    """The inbox and its own sub-folders; a sub-folder that is a link (or not a folder) is set aside."""
    inbox.mkdir(parents=True, exist_ok=True)
    for sub in OWN_FOLDERS:
        path = inbox / sub
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            path.mkdir(exist_ok=True)
            continue
        if not stat.S_ISDIR(st.st_mode):  # never write through a link planted as rejected/ or processed/
            try:
                path.rename(inbox / f".refused-{sub.strip('.')}-{int(time.time())}-{secrets.token_hex(3)}")
            except FileNotFoundError:
                pass
            path.mkdir(exist_ok=True)


def stable_interval() -> float:
    try:
        value = float(os.environ.get("DRS_INBOX_STABLE_SECONDS", STABLE_SECONDS_DEFAULT))
    except ValueError:
        return STABLE_SECONDS_DEFAULT
    return value if 0 <= value <= 60 else STABLE_SECONDS_DEFAULT


def _take(entry: Path, inbox: Path, name: str, wall: float) -> ClaimedFile | None:
    name = safe_name(name)
    target = inbox / CLAIMED / claim_name(name, wall)
    try:
        entry.rename(target)  # atomic; a link or a folder is moved as itself, never followed
        st = os.lstat(target)
    except FileNotFoundError:  # another run took it between listing and renaming
        return None
    except OSError as exc:  # cannot be moved (permissions, another file system): left where it is
        import logging

        logging.getLogger(__name__).error("an inbox entry could not be claimed: %s", exc.strerror or type(exc).__name__)
        return None
    return ClaimedFile(name, target, refusal_of(st), signature_of(st))


def claim_inbox(inbox: Path, *, wall: float | None = None, interval: float | None = None) -> InboxClaim:
    """Claim every ready entry of `inbox`, and the claims of owners that are gone (see the module
    docstring). `wall` is the file system's "now" (default the real clock)."""
    ensure_folders(inbox)
    hold_lease(inbox)
    wall = time.time() if wall is None else wall
    interval = stable_interval() if interval is None else interval
    out = InboxClaim()
    tidy_leases(inbox, wall)
    cleanup_temporary(inbox, wall)
    for held in sorted((inbox / CLAIMED).iterdir()):
        owner = parse_claim(held.name)
        if owner is not None and not owner_gone(owner, inbox, wall):
            continue
        taken = _take(held, inbox, owner.name if owner else held.name, wall)
        if taken is not None:
            out.claimed.append(taken)
    first: dict[str, Signature] = {}
    for entry in sorted(os.scandir(inbox), key=lambda e: e.name):
        if entry.name in OWN_FOLDERS or is_temporary(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and wall - st.st_mtime < SETTLED_SECONDS:
            out.skipped.append(entry.name)  # an uploader may link a fresh file in, then unlink its other name
            continue
        if refusal_of(st) is not None:
            taken = _take(Path(entry.path), inbox, entry.name, wall)
            if taken is not None:
                out.claimed.append(taken)
            continue
        first[entry.name] = signature_of(st)
    settled = {name: sig for name, sig in first.items() if wall - sig[1] / 1e9 >= SETTLED_SECONDS}
    fresh = {name: sig for name, sig in first.items() if name not in settled}
    for name, seen in settled.items():  # untouched for SETTLED_SECONDS: stable already, taken at once
        _take_if_unchanged(inbox, name, seen, wall, out)
    if fresh and interval > 0:
        time.sleep(interval)  # the second look, for the files changed lately
    for name, seen in fresh.items():
        _take_if_unchanged(inbox, name, seen, wall, out)
    out.claimed.sort(key=lambda f: f.name)
    return out


def _take_if_unchanged(inbox: Path, name: str, seen, wall: float, out) -> None:
    """Claim `name` if it still has the signature `seen`; a file changed since is skipped this run."""
    try:
        st = os.lstat(inbox / name)
    except FileNotFoundError:
        return
    if signature_of(st) != seen:
        out.skipped.append(name)
        return
    taken = _take(inbox / name, inbox, name, wall)
    if taken is not None:
        out.claimed.append(taken)


def claim_one(path: Path, inbox: Path) -> ClaimedFile | None:
    """Claim one named entry of the inbox (no stability wait: the user asked for it)."""
    ensure_folders(inbox)
    hold_lease(inbox)
    return _take(path, inbox, path.name, time.time())


def changed_since(item: ClaimedFile, signature: Signature | None) -> bool:
    """Whether the claimed file differs from `signature` (it was written to after it was read)."""
    if signature is None:
        return False
    try:
        return signature_of(os.lstat(item.path)) != signature
    except FileNotFoundError:
        return False
