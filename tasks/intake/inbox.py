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
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import secrets
import shutil
import socket
import stat
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import InvalidInput
from tasks.operations.processes import pid_alive

SUFFIXES = (".json", ".csv", ".xlsx")
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", "~", ".swp", ".lock")
CLAIMED, PROCESSED, REJECTED, LEASES = ".claimed", "processed", "rejected", ".leases"
OWN_FOLDERS = (CLAIMED, PROCESSED, REJECTED)

STABLE_SECONDS_DEFAULT = 2.0
SETTLED_SECONDS = 30.0  # untouched this long: already stable across any two looks a few seconds apart
LEASE_RENEW_SECONDS = 20.0
LEASE_EXPIRY_SECONDS = 600.0
LEGACY_STALE_SECONDS = 15 * 60  # only for claims named by older versions on another host


class UnreadableFile(InvalidInput):
    """The file cannot be read as records at all; the message says why in plain words."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024
    max_records: int = 20_000
    max_columns: int = 200
    max_cell_chars: int = 32_767  # Excel's own limit for a cell
    max_json_depth: int = 32
    max_json_containers: int = 500_000
    xlsx_max_unpacked: int = 64 * 1024 * 1024
    xlsx_max_member: int = 16 * 1024 * 1024  # any part but a worksheet (shared strings, styles, …)
    xlsx_max_members: int = 400


LIMITS = Limits()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class Schema:
    kind: str  # "referral" | "claim": used in messages
    required: tuple[str, ...]
    record: Callable[[dict], dict]  # a JSON object or a header-keyed row -> the record's fields


def norm_key(key: Any) -> str:
    """A column name as the schemas know it: trimmed, lower case, spaces as `_`, no BOM."""
    return " ".join(str(key if key is not None else "").replace("\ufeff", "").split()).lower().replace(" ", "_")


def _referral_record(raw: dict) -> dict:
    from models.domain.referrals import flatten

    return flatten({norm_key(k): v for k, v in raw.items()})


def _claim_record(raw: dict) -> dict:
    return {norm_key(k): v for k, v in raw.items() if norm_key(k)}


REFERRALS = Schema("referral", ("form_id",), _referral_record)
CLAIMS = Schema("claim", ("claim_id",), _claim_record)

#: key of a placeholder record standing for a JSON list element that is not an object
NOT_A_RECORD = "__not_a_record__"

Signature = tuple[int, int, int]  # (size, mtime_ns, inode)


def signature_of(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(frozen=True)
class ReadFile:
    records: list[tuple[str, dict]]
    signature: Signature  # of the file as opened


# --- reading ----------------------------------------------------------------------------------


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
            raise UnreadableFile(
                f"the file is too large ({_mb(st.st_size)}; the limit is {_mb(limits.max_file_bytes)})"
            )
        if suffix == ".xlsx":
            records = _read_xlsx(fh, schema, limits)
        else:
            data = fh.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                raise UnreadableFile(f"the file is too large (over {_mb(limits.max_file_bytes)})")
            if not data.strip():
                raise UnreadableFile("the file is empty")
            records = _read_json(data, schema, limits) if suffix == ".json" else _read_csv(data, schema, limits)
    return ReadFile(records, signature_of(st))


def _depth_ok(doc: Any, limit: int) -> bool:
    """Whether no list/object in `doc` is nested deeper than `limit` (iterative: no recursion)."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def _read_json(data: bytes, schema: Schema, limits: Limits) -> list[tuple[str, dict]]:
    try:
        text = _decode(data, strict=True)
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text, so it cannot be JSON") from None
    containers = data.count(b"{") + data.count(b"[")  # an upper bound (brackets inside strings count too)
    if containers > limits.max_json_containers:
        raise UnreadableFile(f"the JSON has too many objects and lists (over {limits.max_json_containers:,})")
    try:
        doc = json.loads(text, parse_constant=_not_a_json_number, object_pairs_hook=_object_without_repeats)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"the JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise UnreadableFile(f"the JSON is nested too deeply (more than {limits.max_json_depth} levels)") from None
    if not _depth_ok(doc, limits.max_json_depth):
        raise UnreadableFile(f"the JSON is nested too deeply (more than {limits.max_json_depth} levels)")
    items = doc if isinstance(doc, list) else [doc]
    if len(items) > limits.max_records:
        raise UnreadableFile(f"the file has more than {limits.max_records:,} records; split it into smaller files")
    if not any(isinstance(item, dict) for item in items):
        raise UnreadableFile(f"record 1 is not a JSON object: expected one {schema.kind} object or a list of them")
    records = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict):
            _check_cells(item.values(), f"record {n}", limits)
            records.append((f"record {n}", schema.record(item)))
        else:  # rejected on its own: the records beside it are still imported
            records.append((f"record {n}", {NOT_A_RECORD: f"is not a JSON object (expected a {schema.kind} object)"}))
    return records


def _not_a_json_number(name: str):
    """NaN, Infinity and -Infinity are not JSON (Python's parser accepts them; a value would become
    text like 'nan')."""
    raise UnreadableFile(f"the JSON contains {name}, which is not a JSON value (use a number or text)")


def _object_without_repeats(pairs: list) -> dict:
    """A JSON object whose key repeats is ambiguous (which form_id, which email?): refused whole."""
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            shown = (
                f" '{key}'" if len(key) <= 40 and all(c.isascii() and (c.isalnum() or c in "_-. ") for c in key) else ""
            )
            raise UnreadableFile(f"a JSON object has the key{shown} twice; which value is meant is unclear")
        obj[key] = value
    return obj


def _check_cells(values, locator: str, limits: Limits) -> None:
    for value in values:
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            raise UnreadableFile(f"{locator} has a value longer than {limits.max_cell_chars:,} characters")
        if isinstance(value, dict):
            _check_cells(value.values(), locator, limits)  # depth already bounded


def _decode(data: bytes, *, strict: bool = False) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if strict:
            raise
        return data.decode("cp1252", errors="replace")


def _check_header(header: list[str], schema: Schema, limits: Limits) -> None:
    if len([h for h in header if h]) > limits.max_columns:
        raise UnreadableFile(f"the header row has more than {limits.max_columns} columns")
    missing = [c for c in schema.required if c not in header]
    if missing:
        hint = "" if any(h and h in _known(schema) for h in header) else " (is the first row the header row?)"
        raise UnreadableFile(f"the header row has no {', '.join(missing)} column{hint}")


def _known(schema: Schema) -> set[str]:
    if schema is REFERRALS:
        from models.domain.referrals import FIELDS

        return set(FIELDS)
    return {
        "claim_id",
        "case_ref",
        "session_date",
        "claimant_name",
        "claimant_email",
        "category",
        "miles",
        "amount",
        "receipt",
        "description",
        "paid_on",
    }


def _read_csv(data: bytes, schema: Schema, limits: Limits) -> list[tuple[str, dict]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not readable text (UTF-16 that does not decode)") from None
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t", "|"), key=first_line.count)  # Excel in some locales writes ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise UnreadableFile("the file is empty")
        header = [norm_key(h) for h in header_row]
        _check_header(header, schema, limits)
        records = []
        n = 1
        for row in reader:
            n += 1  # the row as a spreadsheet shows it (a quoted value may span lines)
            if len(records) >= limits.max_records:
                raise UnreadableFile(f"the file has more than {limits.max_records:,} rows; split it into smaller files")
            if not any(cell.strip() for cell in row):
                continue
            beyond = [c for c, cell in enumerate(row[len(header) :], start=len(header) + 1) if cell.strip()]
            if beyond:  # this record alone is rejected: a value with no column is never dropped
                records.append((f"row {n}", {NOT_A_RECORD: _beyond(beyond[0], len(header))}))
                continue
            _check_cells(row, f"row {n}", limits)
            records.append((f"row {n}", schema.record({h: v for h, v in zip(header, row) if h})))
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV cannot be read: {str(exc)[:120]}") from None
    return records


def _read_xlsx(fh, schema: Schema, limits: Limits) -> list[tuple[str, dict]]:
    _check_zip(fh, limits)
    fh.seek(0)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except UnreadableFile:
        raise
    except Exception as exc:  # openpyxl raises many kinds (KeyError, XML errors, …) for a broken workbook
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        if not wb.worksheets:
            raise UnreadableFile("the workbook has no sheet")
        header: list[str] | None = None
        records = []
        for n, row in _sheet_rows(wb, limits):
            values = {column: value for column, value in row if not _blank(value)}
            if header is None:
                if n != 1 or not values:
                    raise UnreadableFile("the first sheet has no header row (the header must be row 1)")
                width = max(values)
                header = [norm_key(values.get(c)) for c in range(1, width + 1)]
                _check_header(header, schema, limits)
                continue
            if not values:
                continue
            if max(values) > len(header):  # this record alone is rejected: a value with no column is never dropped
                extra = min(c for c in values if c > len(header))
                records.append((f"row {n}", {NOT_A_RECORD: _beyond(extra, len(header))}))
                continue
            _check_cells(values.values(), f"row {n}", limits)
            records.append((f"row {n}", schema.record({header[c - 1]: v for c, v in values.items() if header[c - 1]})))
        if header is None:
            raise UnreadableFile("the first sheet is empty (the header row must be row 1)")
        return records
    except UnreadableFile:
        raise
    except Exception as exc:  # broken XML met while streaming the sheet, …
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None
    finally:
        wb.close()


def _beyond(column: int, width: int) -> str:
    return (
        f"has a value in column {column}, beyond the header row's {width} columns "
        "(a separator inside a value that is not quoted?)"
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_rows(wb, limits: Limits):
    """(row number, [(column, value)]) of the first sheet's stored cells, streamed by openpyxl's own
    sheet parser. Unlike `iter_rows` it neither trusts the sheet's declared dimension (which can
    hide rows) nor pads rows to the widest column (a cell in column XFD would cost 16,384 cells
    a row); rows, columns and the rows parsed are bounded by `limits`."""
    from openpyxl.worksheet._reader import WorkSheetParser

    sheet = wb.worksheets[0]
    parsed = 0
    with sheet._get_source() as src:
        parser = WorkSheetParser(
            src,
            sheet._shared_strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for n, cells in parser.parse():
            parsed += 1
            if n > limits.max_records + 1 or parsed > limits.max_records + 1:
                raise UnreadableFile(
                    f"the first sheet has more than {limits.max_records:,} rows; split it into smaller files"
                )
            row = []
            for cell in cells:
                column = cell["column"]
                if column > limits.max_columns:
                    if _blank(cell["value"]):
                        continue
                    raise UnreadableFile(f"row {n} has more than {limits.max_columns} columns")
                row.append((column, cell["value"]))
            yield n, row


def _check_zip(fh, limits: Limits) -> None:
    """Bound an .xlsx before any XML is parsed: member count, unpacked sizes (the zip reader
    stops at the sizes its directory gives), shared strings and the like, and no DTDs."""
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if len(infos) > limits.xlsx_max_members:
                raise UnreadableFile(f"the workbook has too many parts ({len(infos)})")
            total = sum(i.file_size for i in infos)
            if total > limits.xlsx_max_unpacked:
                raise UnreadableFile(
                    f"the workbook would unpack to {_mb(total)} (the limit is {_mb(limits.xlsx_max_unpacked)})"
                )
            for info in infos:
                lower = info.filename.lower()
                if not lower.startswith("xl/worksheets/") and info.file_size > limits.xlsx_max_member:
                    part = "shared strings" if "sharedstrings" in lower else "a part"
                    raise UnreadableFile(
                        f"the workbook's {part} would unpack to {_mb(info.file_size)} "
                        f"(the limit is {_mb(limits.xlsx_max_member)})"
                    )
                if lower.endswith((".xml", ".rels")) and info.file_size:
                    with zf.open(info) as member:
                        head = member.read(2048)
                    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                        raise UnreadableFile("the workbook contains XML declarations Excel never writes (a DTD)")
    except UnreadableFile:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        OSError,
    ) as exc:  # RuntimeError: an encrypted part
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None


# --- who owns a claim ---------------------------------------------------------------------------


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
    import hashlib

    ext = Path(text).suffix[:10]
    digest = hashlib.sha256(raw).hexdigest()[:10]
    head = text.encode("utf-8")[: MAX_NAME_BYTES - len(ext) - 12].decode("utf-8", "ignore")
    return f"{head}~{digest}{ext}"


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


def _tidy_leases(inbox: Path, wall: float) -> None:
    folder = inbox / LEASES
    for entry in list(folder.iterdir()) if folder.is_dir() else []:
        parts = entry.name.split(".", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        owner = ClaimOwner(0.0, int(parts[0]), int(parts[1]), parts[2], "")
        try:
            if owner.host == host() and not owner_alive(owner.pid, owner.start):
                entry.unlink()
            elif owner.host != host() and wall - entry.stat().st_mtime > 10 * LEASE_EXPIRY_SECONDS:
                entry.unlink()
        except OSError:
            continue


# --- claiming -------------------------------------------------------------------------------------


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


def is_temporary(name: str) -> bool:
    lower = name.lower()
    return lower.startswith((".", "~$")) or lower.endswith(TEMP_SUFFIXES)


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
    _tidy_leases(inbox, wall)
    cleanup_temporary(inbox, wall)
    for entry in sorted((inbox / CLAIMED).iterdir()):
        owner = parse_claim(entry.name)
        if owner is not None and not owner_gone(owner, inbox, wall):
            continue
        taken = _take(entry, inbox, owner.name if owner else entry.name, wall)
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


# --- finishing a claim ---------------------------------------------------------------------------


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    n = 2
    while os.path.lexists(target) or os.path.lexists(folder / f"{target.name}.errors.json"):
        stem, dot, ext = name.rpartition(".")
        target = folder / (f"{stem}-{n}.{ext}" if dot else f"{name}-{n}")
        n += 1
    return target


def file_away(claimed: ClaimedFile, inbox: Path, *, rejected_whole: bool = False) -> Path:
    """Move a finished claim to `processed/` (or `rejected/`); never overwrites."""
    folder = inbox / (REJECTED if rejected_whole else PROCESSED)
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique(folder, claimed.name)
    claimed.path.rename(target)
    return target


def put_back(claimed: ClaimedFile, inbox: Path) -> Path | None:
    """Return a claim to the inbox (it changed while being read): the next run takes it again."""
    target = _unique(inbox, claimed.name)
    try:
        claimed.path.rename(target)
    except FileNotFoundError:
        return None
    return target


def _tmp_name(label: str) -> str:
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


def _already_rejected(folder: Path, name: str, source: Path, report: dict) -> Path | None:
    stem, dot, ext = name.rpartition(".")
    candidates = [folder / name] + [folder / (f"{stem}-{n}.{ext}" if dot else f"{name}-{n}") for n in range(2, 50)]
    content = None
    for candidate in candidates:
        errors = candidate.with_name(candidate.name + ".errors.json")
        if not candidate.exists():
            return None
        try:
            content = source.read_bytes() if content is None else content
            earlier = json.loads(errors.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        same_problems = (earlier.get("records"), earlier.get("error")) == (report.get("records"), report.get("error"))
        if same_problems and candidate.read_bytes() == content:
            return candidate
    return None


def write_rejected(
    source: Path, name: str, inbox: Path, report: dict, *, move: bool = False, follow: bool = False
) -> Path:
    """Put `source` (copied, or moved when `move`) in `rejected/` beside `<name>.errors.json`.
    `source` is a claimed file (never followed, not copied when it has other hard links) or, with
    `follow`, a file the user named outside the inbox."""
    folder = inbox / REJECTED
    folder.mkdir(parents=True, exist_ok=True)
    same = _already_rejected(folder, name, source, report)
    if same is not None:  # the same file with the same problems, given again: nothing new to say
        if move:
            source.unlink()
        return same
    target = _unique(folder, name)
    errors = target.with_name(target.name + ".errors.json")
    tmp_errors = folder / _tmp_name("errors")
    tmp_copy = folder / _tmp_name("copy")
    try:
        if move:
            tmp_errors.write_text(_report_text(report), encoding="utf-8")
            source.rename(target)
        elif not _copy_regular(source, tmp_copy, follow=follow):
            report = {**report, "copy": "no copy was kept: the file has other hard links or is not a plain file"}
            tmp_errors.write_text(_report_text(report), encoding="utf-8")
        else:
            tmp_errors.write_text(_report_text(report), encoding="utf-8")
            tmp_copy.rename(target)
        tmp_errors.replace(errors)
    finally:
        for tmp in (tmp_errors, tmp_copy):
            if os.path.lexists(tmp):
                tmp.unlink()
    return target


def _report_text(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def _copy_regular(source: Path, target: Path, *, follow: bool) -> bool:
    """Copy `source` through one handle opened without following links; False (nothing copied)
    when it is not a regular file or has other hard links (its content may live outside the inbox)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(source, flags)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as src:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (not follow and st.st_nlink > 1):
            return False
        with open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return True


def reject_entry(item: ClaimedFile, inbox: Path, report: dict) -> Path:
    """Refuse a claimed link, folder, pipe, device or hard-linked file without reading it: a link,
    pipe, socket, device or extra hard link is removed (its target or other name is untouched), a
    folder is moved into `rejected/` as it is; `<name>.errors.json` says why."""
    folder = inbox / REJECTED
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique(folder, item.name)
    try:
        st = os.lstat(item.path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        item.path.rename(target)
    elif st is not None:
        item.path.unlink()
    errors = target.with_name(target.name + ".errors.json")
    tmp = folder / _tmp_name("errors")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(errors)
    return errors
