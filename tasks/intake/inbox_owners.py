"""Who owns an inbox claim: a process (pid, start time, host) for as long as it lives, kept
alive across machines by a lease file renewed by a thread; and the clean-up of what a run that
is gone left behind (`tasks.intake.inbox`)."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tasks.intake.inbox_layout import (
    LEASE_EXPIRY_SECONDS,
    LEASE_RENEW_SECONDS,
    LEASES,
    LEGACY_STALE_SECONDS,
    REJECTED,
    safe_name,
)
from tasks.operations.processes import pid_alive


def host() -> str:
    return socket.gethostname().replace(".", "_").replace("__", "_")[:40] or "host"


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None when unknown."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
        return int(data.rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def owner_id(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}.{process_start(pid) or 0}.{host()}"


def owner_alive(pid: int, start: int) -> bool:
    """On this host: whether process `pid` that started at `start` still runs (pid reuse counts as dead)."""
    if not pid_alive(pid):
        return False
    now = process_start(pid)
    return start == 0 or now is None or now == start


_LEASES: set[Path] = set()
_LEASE_LOCK = threading.Lock()
_RENEWER: tuple[int, threading.Thread] | None = None


def _renew_forever() -> None:
    while True:
        time.sleep(LEASE_RENEW_SECONDS)
        with _LEASE_LOCK:
            leases = list(_LEASES)
        for lease in leases:
            try:
                lease.touch()
            except OSError:
                pass


def hold_lease(inbox: Path) -> Path:
    """This process's lease on `inbox` claims: created now, renewed by a daemon thread while it lives."""
    global _RENEWER
    lease = inbox / LEASES / owner_id()
    lease.parent.mkdir(parents=True, exist_ok=True)
    lease.touch()
    with _LEASE_LOCK:
        _LEASES.add(lease)
        if _RENEWER is None or _RENEWER[0] != os.getpid() or not _RENEWER[1].is_alive():
            thread = threading.Thread(target=_renew_forever, name="inbox-lease", daemon=True)
            thread.start()
            _RENEWER = (os.getpid(), thread)
    return lease


def claim_name(name: str, wall: float) -> str:
    return f"{int(wall)}.{owner_id()}__{safe_name(name)}"


@dataclass(frozen=True)
class ClaimOwner:
    claimed_at: float
    pid: int
    start: int | None  # None: a claim named by an older version (no start time)
    host: str
    name: str


def parse_claim(claim: str) -> ClaimOwner | None:
    prefix, sep, name = claim.partition("__")
    if not sep:
        return None
    parts = prefix.split(".", 3)
    if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
        return ClaimOwner(float(parts[0]), int(parts[1]), int(parts[2]), parts[3], name)
    parts = prefix.split(".", 2)
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
        return ClaimOwner(float(parts[0]), int(parts[1]), None, parts[2], name)
    return None


def owner_gone(owner: ClaimOwner, folder: Path, wall: float) -> bool:
    """Whether the process that made a claim (or a temporary file) is gone for good."""
    if owner.host == host():
        if owner.start is None:
            return owner.pid != os.getpid() and not pid_alive(owner.pid)
        return not owner_alive(owner.pid, owner.start)
    if owner.start is None:
        return wall - owner.claimed_at > LEGACY_STALE_SECONDS
    lease = folder / LEASES / f"{owner.pid}.{owner.start}.{owner.host}"
    try:
        renewed = lease.stat().st_mtime
    except FileNotFoundError:
        renewed = owner.claimed_at
    return wall - renewed > LEASE_EXPIRY_SECONDS


def tidy_leases(inbox: Path, wall: float) -> None:
    folder = inbox / LEASES
    for entry in list(folder.iterdir()) if folder.is_dir() else []:
        parts = entry.name.split(".", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        pid, start, owner_host = int(parts[0]), int(parts[1]), parts[2]
        try:
            if owner_host == host() and not owner_alive(pid, start):
                entry.unlink()
            elif owner_host != host() and wall - entry.stat().st_mtime > 10 * LEASE_EXPIRY_SECONDS:
                entry.unlink()
        except OSError:
            continue


def tmp_name(label: str) -> str:
    return f".tmp.{owner_id()}.{secrets.token_hex(4)}.{label}"


def cleanup_temporary(inbox: Path, wall: float) -> int:
    """Remove temporary files left in `rejected/` by runs that are gone (killed mid-write)."""
    removed = 0
    folder = inbox / REJECTED
    for entry in list(folder.iterdir()) if folder.is_dir() else []:
        if not entry.name.startswith(".tmp."):
            continue
        parts = entry.name.split(".")
        if len(parts) < 6 or not parts[2].isdigit() or not parts[3].isdigit():
            continue
        owner = ClaimOwner(entry.lstat().st_mtime, int(parts[2]), int(parts[3]), parts[4], "")
        if owner_gone(owner, inbox, wall) or (owner.host != host() and wall - owner.claimed_at > LEASE_EXPIRY_SECONDS):
            try:
                entry.unlink()
                removed += 1
            except OSError:
                pass
    return removed
