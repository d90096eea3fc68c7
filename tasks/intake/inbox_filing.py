"""Finishing an inbox claim: filed away in `processed/`, put back in the inbox, or a copy in
`rejected/` beside `<name>.errors.json`; a refused entry removed or set aside. Nothing is ever
overwritten (`tasks.intake.inbox`)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from tasks.intake.inbox_claims import ClaimedFile
from tasks.intake.inbox_layout import PROCESSED, REJECTED
from tasks.intake.inbox_owners import tmp_name


def unique_path(folder: Path, name: str) -> Path:
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
    target = unique_path(folder, claimed.name)
    claimed.path.rename(target)
    return target


def put_back(claimed: ClaimedFile, inbox: Path) -> Path | None:
    """Return a claim to the inbox (it changed while being read): the next run takes it again."""
    target = unique_path(inbox, claimed.name)
    try:
        claimed.path.rename(target)
    except FileNotFoundError:
        return None
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
    target = unique_path(folder, name)
    errors = target.with_name(target.name + ".errors.json")
    tmp_errors = folder / tmp_name("errors")
    tmp_copy = folder / tmp_name("copy")
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
    target = unique_path(folder, item.name)
    try:
        st = os.lstat(item.path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        item.path.rename(target)
    elif st is not None:
        item.path.unlink()
    errors = target.with_name(target.name + ".errors.json")
    tmp = folder / tmp_name("errors")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(errors)
    return errors
