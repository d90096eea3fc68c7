"""Inbox files: ONE reader (referrals and expense claims alike) and ONE safe hand-off from the inbox.

Reading — `read_records(path, name, schema=...)` returns `ReadFile(records, signature)` where
records are `(locator, fields)` pairs ("record N" for JSON, "row N" for CSV/XLSX, header = row 1),
or raises `UnreadableFile` with a plain-English reason that never quotes the file's contents:
- the file is opened once, without following a symbolic link (unless the caller named it
  outside the inbox), and must be a regular file; everything is read through that one handle;
- sizes are bounded BEFORE parsing (`Limits`): bytes on disk; for an .xlsx (a zip) the unpacked
  size of every member from the zip's directory (the zip reader enforces those sizes), the
  shared-strings size, rows, columns and cell length; for JSON the number of objects/lists and
  their nesting depth (a deep document never reaches the recursion limit of the code after it);
- text: UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252; CSV delimiter sniffed
  from the header line (`,` `;` tab `|`).
Two schemas: `REFERRALS` (nested JSON flattened to the contract's column names, `form_id`
column required) and `CLAIMS` (keys lower-cased, spaces as `_`, `claim_id` column required).

Hand-off — `claim_inbox(inbox)` takes each ready entry by an atomic rename into `.claimed/`:
- a file is taken only when its (size, mtime, inode) are the same at two looks `interval`
  seconds apart (`DRS_INBOX_STABLE_SECONDS`, default 2; the wait is skipped when every
  candidate has been untouched for `SETTLED_SECONDS` already); temporary names (`.part`, `~$…`,
  a leading `.`) are left alone;
- symbolic links, folders, pipes, sockets and devices are taken too, but only to be refused
  (`ClaimedFile.refusal`): their target is never opened. A file with other hard links is refused
  unread too (its contents may be a file from outside the inbox; only the inbox's link is
  removed, the other name keeps the data) — once it has been untouched for `SETTLED_SECONDS`:
  a fresh one is left for a later run, as an uploader may link it in and then unlink elsewhere;
- a claim is named after its owner (pid + process start time + host). It belongs to that
  process for as long as it lives: on the same host it is taken back only when the owner is
  gone (or its pid now belongs to another process); a claim of another host is taken back when
  that host's lease file (`.claimed/.leases/<owner>`, renewed every `LEASE_RENEW_SECONDS` by a
  thread of the owner) has not been renewed for `LEASE_EXPIRY_SECONDS`.
`file_away`, `write_rejected`, `reject_entry` and `put_back` finish a claim; none overwrites.

This module is the one entry: `read_records` is here; the rest lives beside it and is
re-exported — `inbox_layout` (folders, time limits, names), `inbox_formats` (limits, schemas),
`inbox_text` (JSON, CSV), `inbox_xlsx`, `inbox_owners` (owners, leases), `inbox_claims` (the
hand-off) and `inbox_filing` (finishing a claim).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tasks.intake import inbox_text, inbox_xlsx
from tasks.intake.inbox_claims import (
    ClaimedFile,
    InboxClaim,
    changed_since,
    claim_inbox,
    claim_one,
    ensure_folders,
    refusal_of,
    stable_interval,
)
from tasks.intake.inbox_filing import file_away, put_back, reject_entry, write_rejected
from tasks.intake.inbox_formats import (
    CLAIMS,
    LIMITS,
    NOT_A_RECORD,
    REFERRALS,
    Limits,
    Schema,
    UnreadableFile,
    mb,
    norm_key,
)
from tasks.intake.inbox_layout import (
    CLAIMED,
    LEASES,
    OWN_FOLDERS,
    PROCESSED,
    REJECTED,
    SETTLED_SECONDS,
    SUFFIXES,
    TEMP_SUFFIXES,
    Signature,
    is_temporary,
    safe_name,
    signature_of,
)
from tasks.intake.inbox_owners import (
    ClaimOwner,
    claim_name,
    cleanup_temporary,
    hold_lease,
    host,
    owner_alive,
    owner_gone,
    owner_id,
    parse_claim,
    process_start,
)

__all__ = [
    "CLAIMED",
    "CLAIMS",
    "LEASES",
    "LIMITS",
    "NOT_A_RECORD",
    "OWN_FOLDERS",
    "PROCESSED",
    "REFERRALS",
    "REJECTED",
    "SETTLED_SECONDS",
    "SUFFIXES",
    "TEMP_SUFFIXES",
    "ClaimOwner",
    "ClaimedFile",
    "InboxClaim",
    "Limits",
    "ReadFile",
    "Schema",
    "Signature",
    "UnreadableFile",
    "changed_since",
    "claim_inbox",
    "claim_name",
    "claim_one",
    "cleanup_temporary",
    "ensure_folders",
    "file_away",
    "hold_lease",
    "host",
    "is_temporary",
    "norm_key",
    "owner_alive",
    "owner_gone",
    "owner_id",
    "parse_claim",
    "process_start",
    "put_back",
    "read_records",
    "refusal_of",
    "reject_entry",
    "safe_name",
    "signature_of",
    "stable_interval",
    "write_rejected",
]


@dataclass(frozen=True)
class ReadFile:
    records: list[tuple[str, dict]]
    signature: Signature  # of the file as opened


def read_records(
    path: Path, name: str | None = None, *, schema: Schema = REFERRALS, follow: bool = False, limits: Limits = LIMITS
) -> ReadFile:
    """The records of one inbox file (see the module docstring); `UnreadableFile` says why not.
    `name` (default `path.name`) decides the format by its extension; `follow` allows `path`
    itself to be a symbolic link (a file the user named, never an inbox entry)."""
    suffix = Path(name or path.name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile(
            f"not a {schema.kind} file: expected a .json, .csv or .xlsx file, not {suffix or 'no extension'}"
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableFile("the file is a symbolic link; links are refused and were not followed") from None
        raise UnreadableFile(f"the file cannot be opened ({exc.strerror or type(exc).__name__})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile("it is not a regular file (a folder, pipe, socket or device); it was not read")
        if st.st_size > limits.max_file_bytes:
            raise UnreadableFile(f"the file is too large ({mb(st.st_size)}; the limit is {mb(limits.max_file_bytes)})")
        if suffix == ".xlsx":
            records = inbox_xlsx.read_xlsx(fh, schema, limits)
        else:
            data = fh.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                raise UnreadableFile(f"the file is too large (over {mb(limits.max_file_bytes)})")
            if not data.strip():
                raise UnreadableFile("the file is empty")
            records = (
                inbox_text.read_json(data, schema, limits)
                if suffix == ".json"
                else inbox_text.read_csv(data, schema, limits)
            )
    return ReadFile(records, signature_of(st))
