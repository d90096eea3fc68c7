"""Referral files on disk: reading JSON/CSV/XLSX records, and claiming files from the inbox.

The inbox is `$DRS_HOME/inbox/referrals/`; the website may drop a file there at any moment.

- `claim_inbox(inbox)` takes each ready file by renaming it into `.claimed/` (an atomic
  rename: two runs never take the same file). A file still being written is left alone: a
  temporary name (`.part`, `.tmp`, `.crdownload`, `~`, a leading `.` or `~$`) or modified
  within `SETTLE_SECONDS` of the file system's clock (not `--today`: file times are wall time).
  A claim left behind by a crashed run — its process gone, or older than `STALE_CLAIM_SECONDS`
  — is taken again, so no file is lost; `form_id` catches the records already imported.
- `read_records(path)` returns `(locator, flat record)` pairs or raises `UnreadableFile` with a
  plain-English reason. Locators are "record N" (JSON) or "row N" (CSV/XLSX, header = row 1).
- `file_away` / `write_rejected` put a finished file into `processed/` and `rejected/`.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from models.domain.referrals import FIELDS, flatten
from tasks.processes import pid_alive

SUFFIXES = (".json", ".csv", ".xlsx")
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", "~", ".swp", ".lock")
SETTLE_SECONDS = 5.0
STALE_CLAIM_SECONDS = 15 * 60
CLAIMED, PROCESSED, REJECTED = ".claimed", "processed", "rejected"
REQUIRED_COLUMNS = ("form_id",)


class UnreadableFile(Exception):
    """The file cannot be read as referrals at all; the message says why in plain words."""


@dataclass(frozen=True)
class ClaimedFile:
    """An inbox file now held by this run at `path`; `name` is its original file name."""

    name: str
    path: Path


def is_temporary(name: str) -> bool:
    lower = name.lower()
    return lower.startswith((".", "~$")) or lower.endswith(TEMP_SUFFIXES)


def _host() -> str:
    return socket.gethostname().replace(".", "_").replace("__", "_")[:40] or "host"


def claim_name(name: str, wall: float) -> str:
    return f"{int(wall)}.{os.getpid()}.{_host()}__{name}"


def _parse_claim(claim: str) -> tuple[float, int, str, str] | None:
    prefix, sep, name = claim.partition("__")
    parts = prefix.split(".", 2)
    if not sep or len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return float(parts[0]), int(parts[1]), parts[2], name


def _is_stale(claim: str, wall: float) -> bool:
    parsed = _parse_claim(claim)
    if parsed is None:
        return True
    claimed_at, pid, host, _ = parsed
    if wall - claimed_at > STALE_CLAIM_SECONDS:
        return True
    return host == _host() and pid != os.getpid() and not pid_alive(pid)


def ensure_folders(inbox: Path) -> None:
    for sub in (CLAIMED, PROCESSED, REJECTED):
        (inbox / sub).mkdir(parents=True, exist_ok=True)


def claim_inbox(inbox: Path, *, wall: float | None = None) -> tuple[list[ClaimedFile], list[str]]:
    """Claim every ready file in `inbox` (and stale claims of crashed runs).

    Returns (claimed files sorted by name, names skipped because they are still being written).
    `wall` is the file system's "now" (seconds since the epoch; default the real clock).
    """
    ensure_folders(inbox)
    wall = time.time() if wall is None else wall
    claimed, skipped = [], []
    for entry in sorted((inbox / CLAIMED).iterdir()):
        if entry.is_file() and _is_stale(entry.name, wall):
            parsed = _parse_claim(entry.name)
            name = parsed[3] if parsed else entry.name
            target = inbox / CLAIMED / claim_name(name, wall)
            try:
                entry.rename(target)
            except FileNotFoundError:  # another run re-took it first
                continue
            claimed.append(ClaimedFile(name, target))
    for entry in sorted(inbox.iterdir()):
        if not entry.is_file() or is_temporary(entry.name):
            continue
        try:
            if wall - entry.stat().st_mtime < SETTLE_SECONDS:
                skipped.append(entry.name)
                continue
        except FileNotFoundError:
            continue
        target = inbox / CLAIMED / claim_name(entry.name, wall)
        try:
            entry.rename(target)
        except FileNotFoundError:  # another run claimed it between listing and renaming
            continue
        claimed.append(ClaimedFile(entry.name, target))
    return sorted(claimed, key=lambda f: f.name), skipped


def files_in_folder(folder: Path) -> list[Path]:
    """The referral files directly in `folder` (explicit paths: not moved, no settle wait)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not is_temporary(p.name))


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    n = 2
    while target.exists() or (folder / f"{target.name}.errors.json").exists():
        stem, dot, ext = name.rpartition(".")
        target = folder / (f"{stem}-{n}.{ext}" if dot else f"{name}-{n}")
        n += 1
    return target


def file_away(claimed: ClaimedFile, inbox: Path, *, rejected_whole: bool) -> Path:
    """Move a finished claim to `processed/` (or `rejected/` when unreadable); never overwrites."""
    folder = inbox / (REJECTED if rejected_whole else PROCESSED)
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique(folder, claimed.name)
    claimed.path.rename(target)
    return target


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


def write_rejected(source: Path, name: str, inbox: Path, report: dict, *, move: bool = False) -> Path:
    """Put `source` (copied, or moved when `move`) in `rejected/` beside `<name>.errors.json`."""
    folder = inbox / REJECTED
    folder.mkdir(parents=True, exist_ok=True)
    same = _already_rejected(folder, name, source, report)
    if same is not None:  # the same file with the same problems, given again: nothing new to say
        if move:
            source.unlink()
        return same
    target = _unique(folder, name)
    errors = target.with_name(target.name + ".errors.json")
    tmp = errors.with_name("." + errors.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    if move:
        source.rename(target)
    else:
        shutil.copyfile(source, target)
    tmp.replace(errors)
    return target


# --- reading --------------------------------------------------------------------------------

def read_records(path: Path, name: str | None = None) -> list[tuple[str, dict]]:
    """The records in a referral file as (locator, flat fields); `UnreadableFile` if none can be read.
    `name` (default `path.name`) decides the format by its extension."""
    suffix = Path(name or path.name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile(f"not a referral file: expected a .json, .csv or .xlsx file, not {suffix or 'no extension'}")
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile("the file is empty")
    if suffix == ".json":
        return _read_json(data)
    if suffix == ".csv":
        return _read_csv(data)
    return _read_xlsx(path)


#: key of a placeholder record standing for a list element that is not an object
NOT_A_RECORD = "__not_a_record__"


def _read_json(data: bytes) -> list[tuple[str, dict]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text, so it cannot be JSON") from None
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"the JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    items = doc if isinstance(doc, list) else [doc]
    if not any(isinstance(item, dict) for item in items):
        raise UnreadableFile("record 1 is not a JSON object: expected one referral object or a list of them")
    records = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict):
            records.append((f"record {n}", flatten(item)))
        else:  # rejected on its own: the referrals beside it are still imported
            records.append((f"record {n}", {NOT_A_RECORD: "is not a JSON object (expected a referral object)"}))
    return records


def _check_header(header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        known = [h for h in header if h in FIELDS]
        hint = "" if known else " (is the first row the header row?)"
        raise UnreadableFile(f"the header row has no {', '.join(missing)} column{hint}")


def _read_csv(data: bytes) -> list[tuple[str, dict]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)  # Excel in some locales writes ';'
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV cannot be read: {exc}") from None
    if not rows:
        raise UnreadableFile("the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    _check_header(header)
    records = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        records.append((f"row {n}", flatten(dict(zip(header, row)))))
    return records


def _read_xlsx(path: Path) -> list[tuple[str, dict]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        sheet = wb.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise UnreadableFile("the first sheet is empty")
        header = [str(h).strip().lower() if h is not None else "" for h in first]
        _check_header(header)
        records = []
        for n, row in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            records.append((f"row {n}", flatten({h: v for h, v in zip(header, row) if h})))
        return records
    finally:
        wb.close()
