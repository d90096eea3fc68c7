"""One inbox file at a time, in isolation: whatever one file does, it ends filed and the run goes on.

`process_claimed(item, inbox, schema=..., now=..., import_records=...)` finishes one claim:
- refused entries (links, folders, pipes, devices, hard links): never read; `<name>.errors.json`
  in `rejected/` says why; the team is told once;
- a file that cannot be read — whatever the reader raised, down to a RecursionError or a
  parser's own exception — and was changed in the last `SETTLED_SECONDS` goes back to the inbox
  (it may be half-written; the next run decides); once settled it gets a copy in `rejected/` beside `<name>.errors.json` naming the
  reason in plain words, the claim goes to `processed/`, and the team is told once (outbox key
  `inbox-rejected:<kind>:<reference>`; no file name, no contents: the reference is a digest that
  the `.errors.json` carries too);
- a readable file has its records imported by `import_records(records) -> rejected rows`; a file
  that changed while it was read goes back to the inbox for the next run (ids make the records
  already imported duplicates), otherwise it is filed away (`rejected/` copy when rows were
  rejected).
Whatever happens, nothing stays claimed: a claim still held at the end is put back in the inbox.
Returns `Done(status, reason)` with status `imported` | `unreadable` | `refused` | `returned`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tasks.intake import inbox as inf

log = logging.getLogger(__name__)

NOTES = {
    "referral": "Only the records listed here were rejected; the others were imported. Correct these records "
    "and drop the file in the inbox again: records already imported are recognised by their form_id "
    "and not imported twice.",
    "claim": "Only the claims listed here were not accepted; the others were imported. Correct them and drop the "
    "file in the inbox again: claims already imported are recognised by their claim_id.",
}
FOLDERS = {"referral": "inbox/referrals", "claim": "inbox/claims"}


@dataclass(frozen=True)
class Done:
    status: str  # imported | unreadable | refused | returned
    reason: str | None = None


def unexpected(exc: BaseException, what: str = "reading it") -> str:
    """A plain reason for an exception nobody foresaw (its type only: messages may quote the file)."""
    if isinstance(exc, RecursionError):
        return "the file is nested too deeply to be read"
    if isinstance(exc, MemoryError):
        return "the file needs too much memory to be read"
    return f"an unexpected error ({type(exc).__name__}) while {what}; the team has been told"


def _recent(item: inf.ClaimedFile) -> bool:
    """Changed in the last `SETTLED_SECONDS` (file-system time): an unreadable file this fresh may be
    a half-written one, so it is given to the next run rather than rejected."""
    try:
        return time.time() - os.lstat(item.path).st_mtime < inf.SETTLED_SECONDS
    except FileNotFoundError:
        return False


def reference_of(item: inf.ClaimedFile) -> str:
    """A digest that names the file in the team's email without its name: kind of entry, size and
    the first megabyte (the same file dropped again has the same reference)."""
    digest = hashlib.sha256(item.name.encode("utf-8", "replace"))
    try:
        st = os.lstat(item.path)
        digest.update(f"{st.st_mode:o}:{st.st_size}".encode())
        if item.refusal is None:
            fd = os.open(item.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                digest.update(fh.read(1024 * 1024))
    except OSError:
        pass
    return digest.hexdigest()[:12]


def tell_team(kind: str, reference: str, reason: str, now: datetime) -> None:
    """Queue the team's one email about a file that was refused or could not be read."""
    from tasks.db import unit_of_work
    from tasks.mail.layout import render_email
    from tasks.mail.outbox import queue_email
    from tasks.settings import get_settings

    folder = FOLDERS.get(kind, "inbox")
    heading = f"A {kind} file in the inbox could not be read"
    text, html = render_email(
        heading,
        [
            f"Reason: {reason}.",
            f'It is in {folder}/rejected/ with an .errors.json file whose "reference" is {reference}. '
            f"No {kind} in it was imported. Every other file was imported as usual.",
            "Correct the file (or ask whoever sent it for a new one) and drop it in the inbox again.",
        ],
    )
    try:
        with unit_of_work() as db:
            queue_email(
                db,
                key=f"inbox-rejected:{kind}:{reference}",
                kind="inbox-file-rejected",
                to=get_settings().team_email,
                subject=f"{heading} (reference {reference})",
                text=text,
                html=html,
                now=now,
            )
            db.commit()
    except Exception as exc:  # the file is filed either way; the next bad file will try again
        log.error("could not queue the team's notice about an unreadable %s file: %s", kind, type(exc).__name__)


def process_claimed(
    item: inf.ClaimedFile,
    inbox: Path,
    *,
    schema: inf.Schema,
    now: datetime,
    import_records: Callable[[list[tuple[str, dict]]], list[dict]],
    notify: bool = True,
) -> Done:
    """Finish one claim (see the module docstring)."""
    kind = schema.kind
    try:
        if item.refusal is not None:
            return _refuse(item, inbox, kind=kind, now=now, notify=notify)
        try:
            read = inf.read_records(item.path, item.name, schema=schema)
        except inf.UnreadableFile as exc:
            return _unreadable(item, inbox, str(exc), kind=kind, now=now, notify=notify)
        except Exception as exc:  # noqa: BLE001 — whatever a parser raises, this file alone fails
            log.error("a %s file could not be read: %s", kind, type(exc).__name__)
            return _unreadable(item, inbox, unexpected(exc), kind=kind, now=now, notify=notify)
        rejected = import_records(read.records)
        if inf.changed_since(item, read.signature):
            inf.put_back(item, inbox)  # appended to while read: the rest is imported next run
            return Done("returned")
        if rejected:
            report = {"file": item.name, "readable": True, "checked_at": now.isoformat(), "records": rejected}
            inf.write_rejected(item.path, item.name, inbox, report | {"note": NOTES.get(kind, "")})
        inf.file_away(item, inbox)
        return Done("imported")
    except Exception as exc:  # noqa: BLE001 — filing failed (disk full, permissions): retry next run
        log.error("a %s file could not be filed away: %s", kind, type(exc).__name__)
        return Done("returned", unexpected(exc, "filing it"))
    finally:
        if os.path.lexists(item.path):  # nothing stays claimed, whatever happened
            try:
                inf.put_back(item, inbox)
            except OSError as exc:
                log.error("a claimed %s file could not be returned to the inbox: %s", kind, type(exc).__name__)


def _refuse(item: inf.ClaimedFile, inbox: Path, *, kind: str, now: datetime, notify: bool) -> Done:
    """A link, folder, pipe, device or hard-linked file: never read; the team is told once."""
    assert item.refusal is not None
    reference = reference_of(item)
    if notify:  # told first: a run killed after this tells again under the same key, never not at all
        tell_team(kind, reference, item.refusal, now)
    report = {
        "file": item.name,
        "readable": False,
        "refused": True,
        "error": item.refusal,
        "records": [],
        "reference": reference,
        "checked_at": now.isoformat(),
    }
    inf.reject_entry(item, inbox, report)
    return Done("refused", item.refusal)


def _unreadable(item: inf.ClaimedFile, inbox: Path, reason: str, *, kind: str, now: datetime, notify: bool) -> Done:
    """A file that cannot be read: back to the inbox while it may be half-written, else rejected
    whole (a copy in `rejected/`, the claim in `processed/`) and the team told once."""
    if inf.changed_since(item, item.seen) or _recent(item):  # perhaps still being written:
        inf.put_back(item, inbox)  # the next run reads it whole, or rejects it once it is settled
        return Done("returned")
    reference = reference_of(item)
    report = {
        "file": item.name,
        "readable": False,
        "error": reason,
        "records": [],
        "reference": reference,
        "checked_at": now.isoformat(),
    }
    inf.write_rejected(item.path, item.name, inbox, report)
    if notify:  # before filing away: a run killed in between tells again (same key), never not at all
        tell_team(kind, reference, reason, now)
    inf.file_away(item, inbox)  # every file taken ends in processed/, a copy in rejected/
    return Done("unreadable", reason)
