"""Admin-edited files never stop the service: `$DRS_HOME/extra-holidays.csv` and `alert-policy.json`.

A file that is wrong is not used: the last good version is (kept beside it as
`.extra-holidays.last-good.csv` / `.alert-policy.last-good.json`), or the defaults when there
never was one. `check_admin_files(now)` tells the team in ONE clear email naming the file (and
line) — keyed by file, content digest and day, so it is sent once a day while the file stays
wrong, and again at once when it is edited and still wrong. Intake and the monitor call it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

POLICY_FILE = "alert-policy.json"
POLICY_LAST_GOOD = ".alert-policy.last-good.json"
POLICY_MAX_BYTES = 64 * 1024


def read_policy():
    """(the alert policy in force, the problem with `alert-policy.json` or None). Never raises."""
    from models.domain.alerts import DEFAULT_POLICY, policy_from_mapping
    from tasks.settings import get_settings

    home = get_settings().home
    path = home / POLICY_FILE
    if not path.exists():
        return DEFAULT_POLICY, None
    try:
        if not path.is_file():  # a folder or a pipe: never block on it
            raise ValueError("not a plain file")
        if path.stat().st_size > POLICY_MAX_BYTES:
            raise ValueError(f"the file is larger than {POLICY_MAX_BYTES // 1024} KB")
        raw = path.read_bytes()
        if len(raw) > POLICY_MAX_BYTES:
            raise ValueError(f"the file is larger than {POLICY_MAX_BYTES // 1024} KB")
        try:
            values = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"not valid JSON ({str(exc)[:120]})") from None
        policy = policy_from_mapping(values)
    except Exception as exc:  # noqa: BLE001 — a wrong file: say what, use the last good one
        message = str(exc)[:300] if isinstance(exc, ValueError) else f"cannot be used ({type(exc).__name__})"
        problem = f"{path}: {message.removeprefix('alert policy: ')}"
        return _last_good_policy(home), problem
    _keep(home / POLICY_LAST_GOOD, raw)
    return policy, None


def _last_good_policy(home: Path):
    from models.domain.alerts import DEFAULT_POLICY, policy_from_mapping

    try:
        return policy_from_mapping(json.loads((home / POLICY_LAST_GOOD).read_text(encoding="utf-8-sig")))
    except Exception:  # noqa: BLE001 — no good copy: the defaults
        return DEFAULT_POLICY


def _keep(target: Path, raw: bytes) -> None:
    try:
        if target.exists() and target.read_bytes() == raw:
            return
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(raw)
        tmp.replace(target)
    except OSError:
        pass


def _digest(path: Path) -> str:
    try:
        if not path.is_file():
            return "not-a-file"
        return hashlib.sha256(path.read_bytes()[: 1024 * 1024]).hexdigest()[:12]
    except OSError:
        return "unreadable"


def admin_problems() -> list[tuple[str, str, str]]:
    """[(file label, message, content digest)] for the admin files that are wrong now."""
    from tasks.deadlines.calendar_source import admin_problem
    from tasks.settings import get_settings

    problems = []
    holidays = admin_problem()
    if holidays is not None:
        problems.append(("extra-holidays.csv", holidays[0], holidays[1]))
    _, policy_problem = read_policy()
    if policy_problem is not None:
        problems.append((POLICY_FILE, policy_problem, _digest(get_settings().home / POLICY_FILE)))
    return problems


FALLBACK = {
    "extra-holidays.csv": "Until it is corrected, the last good version of the file is used (or, if there never "
    "was one, the bank holidays alone). Referrals are imported and clocks kept as usual.",
    POLICY_FILE: "Until it is corrected, the last good version of the file is used (or, if there never was one, "
    "the default alert policy). Alerts and the digest go out as usual.",
}


def check_admin_files(now: datetime) -> list[str]:
    """Tell the team once (per file, content and day) about each wrong admin file; returns the
    messages. Never raises: a failure here must not stop the run that called it."""
    try:
        problems = admin_problems()
    except Exception as exc:  # noqa: BLE001
        log.error("checking the admin files failed: %s", type(exc).__name__)
        return []
    if not problems:
        return []
    try:
        from tasks.db import unit_of_work
        from tasks.mail.layout import render_email
        from tasks.mail.outbox import queue_email
        from tasks.settings import get_settings

        settings = get_settings()
        day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
        with unit_of_work() as db:
            for label, message, digest in problems:
                heading = f"{label} needs correcting"
                text, html = render_email(heading, [message + ".", FALLBACK[label]])
                queue_email(
                    db,
                    key=f"admin-file:{label}:{digest}:{day}",
                    kind="admin-file-problem",
                    to=settings.team_email,
                    subject=f"{label} has a mistake and is not being used",
                    text=text,
                    html=html,
                    now=now,
                )
            db.commit()
    except Exception as exc:  # noqa: BLE001
        log.error("could not queue the team's notice about an admin file: %s", type(exc).__name__)
    return [message for _, message, _ in problems]
