"""The bounce mailbox: read delivery-status notifications, match them to outbox rows, record them.

Two sources (settings, README.md "Configuration"):
- a local Maildir, `DRS_BOUNCE_MAILDIR` (a relay or mail rule delivers there; no server needed;
  in the embedded demo set-up — no SMTP relay — `$DRS_HOME/mail/bounces`):
  each message in `new/` and `cur/` is read and then MOVED to the `processed` sub-maildir
  (Maildir++ `.processed/cur/`);
- an IMAP mailbox (stdlib `imaplib`): `DRS_BOUNCE_IMAP_HOST`, `_PORT` (993), `_USER`,
  `_PASSWORD`, `_FOLDER` (INBOX), `_SECURITY` (`ssl` = IMAPS, the default; `starttls`; `none`
  only for a loopback test server). Each message is read with `BODY.PEEK[]` and then MOVED to
  the `processed` folder (MOVE, or COPY + delete when the server lacks MOVE) — never deleted
  unread.
A message is moved only after its outcome is committed; one that cannot be parsed is moved too
(counted as `not_bounces`), so nothing loops. The raw messages stay in `processed` until
`retention` empties it (`remove_old_processed`).

`check_bounces(now)` reads every configured source, records each bounce (`tasks.bounces.handling`),
promotes soft bounces still failing after 3 working days, settles LA problems whose register
was corrected, and returns counts (no personal data).
"""

from __future__ import annotations

import imaplib
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select

from models.db import OutboxEmail
from models.errors import InternalError
from tasks.bounces.parse import BounceReport, parse_bounce
from tasks.db import unit_of_work
from tasks.settings import Settings, get_settings

PROCESSED = "processed"
IMAP_TIMEOUT_SECONDS = 30
#: a notice larger than this is not parsed (counted as not a bounce, moved like the others)
MAX_NOTICE_BYTES = 25 * 1024 * 1024


class BounceMailboxError(InternalError):
    """The bounce mailbox cannot be read (the text names the setting or server, no personal data)."""


@dataclass
class BounceCheckSummary:
    read: int = 0
    bounces: int = 0
    hard: int = 0
    soft: int = 0
    escalated: int = 0
    not_bounces: int = 0
    unmatched: int = 0
    promoted: int = 0
    la_settled: int = 0
    sources: list[str] = field(default_factory=list)
    case_refs: list[str] = field(default_factory=list)
    contact_problems: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# --- matching ---------------------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9.\-]")
_OUTBOX_ID = re.compile(r"^<drs-outbox-(\d+)@", re.IGNORECASE)


def find_outbox_id(db, message_id: str, recipient: str | None = None) -> int | None:
    """The outbox row whose sent message carried `message_id`, or None.

    Tries, in order: a stored per-row Message-ID column (when the outbox has one), the
    `<drs-outbox-N@domain>` form, and the key-derived form `tasks.mail.mailer.build_message` writes
    today (`<key with other characters as '.'>@<sender domain>`; ties are broken by the
    notice's final recipient, then the latest row).
    """
    mid = message_id.strip()
    if not mid.startswith("<"):
        mid = f"<{mid}>"
    column = getattr(OutboxEmail, "message_id", None)
    if column is not None:
        found = db.scalar(select(OutboxEmail.id).where(column.in_((mid, mid[1:-1]))))
        if found is not None:
            return found
    m = _OUTBOX_ID.match(mid)
    if m:
        return db.scalar(select(OutboxEmail.id).where(OutboxEmail.id == int(m.group(1))))
    local, _, domain = mid[1:-1].rpartition("@")
    sender_domain = get_settings().mail_from.rsplit("@", 1)[-1].lower() or "drs-flows.local"
    if not local or domain.lower() != sender_domain or _SAFE.search(local):
        return None
    pattern = local.replace(".", "_") + ("%" if len(local) >= 120 else "")
    candidates = db.execute(
        select(OutboxEmail.id, OutboxEmail.key, OutboxEmail.to_addr)
        .where(OutboxEmail.key.like(pattern))
        .order_by(OutboxEmail.id)
    ).all()
    matches = [c for c in candidates if _SAFE.sub(".", c.key)[:120] == local]
    if recipient and len(matches) > 1:
        same = [c for c in matches if c.to_addr.strip().lower() == recipient.strip().lower()]
        matches = same or matches
    return matches[-1].id if matches else None


# --- sources --------------------------------------------------------------------------------------


class MaildirSource:
    """Messages of a Maildir; `done(name)` moves one to the `.processed` sub-maildir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = "maildir"

    def __enter__(self) -> MaildirSource:
        for sub in ("new", "cur", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            (self.root / f".{PROCESSED}" / sub).mkdir(parents=True, exist_ok=True)
        marker = self.root / f".{PROCESSED}" / "maildirfolder"
        if not marker.exists():
            marker.touch()
        return self

    def __exit__(self, *exc) -> None:
        pass

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for sub in ("new", "cur"):
            for path in sorted((self.root / sub).iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    try:
                        yield f"{sub}/{path.name}", path.read_bytes()
                    except FileNotFoundError:  # another reader (the CLI and the schedule) took it
                        continue

    def done(self, name: str) -> None:
        sub, _, base = name.partition("/")
        if ":2," not in base:
            base += ":2,S"  # Maildir: info "seen", as a mail client would mark it
        try:
            os.replace(self.root / sub / name.partition("/")[2], self.root / f".{PROCESSED}" / "cur" / base)
        except FileNotFoundError:  # moved by another reader meanwhile: recording it twice changed nothing
            pass


class ImapSource:
    """Messages of an IMAP folder; `done(uid)` moves one to the `processed` folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.label = "imap"
        self.conn: imaplib.IMAP4 | None = None
        self.can_move = False

    def __enter__(self) -> ImapSource:
        s = self.settings
        if not s.bounce_imap_user or s.bounce_imap_password is None:
            raise BounceMailboxError("DRS_BOUNCE_IMAP_USER and DRS_BOUNCE_IMAP_PASSWORD must both be set")
        port = s.bounce_imap_port or (993 if s.bounce_imap_security == "ssl" else 143)
        try:
            if s.bounce_imap_security == "ssl":
                conn = imaplib.IMAP4_SSL(
                    s.bounce_imap_host, port, ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT_SECONDS
                )
            else:
                conn = imaplib.IMAP4(s.bounce_imap_host, port, timeout=IMAP_TIMEOUT_SECONDS)
                if s.bounce_imap_security == "starttls":
                    conn.starttls(ssl_context=ssl.create_default_context())
            conn.login(s.bounce_imap_user, s.bounce_imap_password.get_secret_value())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise BounceMailboxError(
                f"cannot open the bounce mailbox on {s.bounce_imap_host}:{port}: {type(exc).__name__}"
            ) from None
        self.conn = conn
        typ, data = conn.capability()  # servers announce more (MOVE) once logged in
        self.can_move = typ == "OK" and b"MOVE" in (data[0] or b"").upper().split()
        typ, _ = conn.select(_quote(s.bounce_imap_folder))
        if typ != "OK":
            self.__exit__()
            raise BounceMailboxError(f"the bounce mailbox has no folder {s.bounce_imap_folder!r}")
        conn.create(PROCESSED)  # "already exists" is a NO: fine
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
                self.conn.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
            self.conn = None

    def messages(self) -> Iterator[tuple[str, bytes]]:
        typ, data = self.conn.uid("SEARCH", None, "ALL")
        if typ != "OK":
            raise BounceMailboxError("the bounce mailbox refused SEARCH")
        for uid in (data[0] or b"").split():
            typ, parts = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or () if isinstance(p, tuple) and len(p) > 1), None)
            if typ == "OK" and raw is not None:
                yield uid.decode(), raw

    def done(self, uid: str) -> None:
        if self.can_move:
            typ, _ = self.conn.uid("MOVE", uid, PROCESSED)
            if typ == "OK":
                return
        typ, _ = self.conn.uid("COPY", uid, PROCESSED)
        if typ != "OK":
            raise BounceMailboxError("the bounce mailbox refused to copy a message to 'processed'")
        self.conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        self.conn.expunge()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def configured_sources(settings: Settings) -> list:
    sources: list = []
    if settings.bounce_maildir_path:
        sources.append(MaildirSource(settings.bounce_maildir_path))
    if settings.bounce_imap_host:
        sources.append(ImapSource(settings))
    return sources


# --- the check ------------------------------------------------------------------------------------


def handle_message(raw: bytes, now: datetime, summary: BounceCheckSummary) -> None:
    """Parse one notice and record it (its own transaction)."""
    from tasks.bounces.handling import record_bounce

    try:
        report: BounceReport | None = None
        if len(raw) <= MAX_NOTICE_BYTES:
            report = parse_bounce(message_from_bytes(raw, policy=policy.compat32))
    except Exception:  # a malformed message is not a bounce we can use; it is still moved
        report = None
    if report is None:
        summary.not_bounces += 1
        return
    summary.bounces += 1
    with unit_of_work() as db:
        outbox_id = next(
            (i for i in (find_outbox_id(db, mid, report.recipient) for mid in report.message_ids) if i is not None),
            None,
        )
        if outbox_id is None:
            summary.unmatched += 1
            return
        outcome = record_bounce(db, outbox_id, status=report.status, action=report.action, now=now, source="dsn")
        db.commit()
    if outcome.hard:
        summary.hard += 1
    else:
        summary.soft += 1
    summary.escalated += outcome.escalated
    if outcome.case_ref and outcome.case_ref not in summary.case_refs:
        summary.case_refs.append(outcome.case_ref)


def check_bounces(now: datetime, sources: list | None = None) -> BounceCheckSummary:
    """Read every configured bounce source, record what they say, then promote soft bounces
    past 3 working days and settle corrected LA addresses. Returns counts and the open
    problems (references only). Raises `BounceMailboxError` when a source cannot be read (what
    was read before stays recorded)."""
    from tasks.bounces.contact_fix import open_problem_summaries, settle_la_problems
    from tasks.bounces.handling import promote_soft_problems

    settings = get_settings()
    summary = BounceCheckSummary()
    for source in configured_sources(settings) if sources is None else sources:
        summary.sources.append(source.label)
        with source:
            for name, raw in list(source.messages()):
                summary.read += 1
                handle_message(raw, now, summary)
                source.done(name)
    with unit_of_work() as db:
        promoted = promote_soft_problems(db, now)
        summary.la_settled = settle_la_problems(db, now)
        db.commit()
    summary.promoted = len(promoted)
    summary.escalated += sum(o.escalated for o in promoted)
    for outcome in promoted:
        if outcome.case_ref and outcome.case_ref not in summary.case_refs:
            summary.case_refs.append(outcome.case_ref)
    with unit_of_work() as db:
        summary.contact_problems = open_problem_summaries(db)
    return summary


def remove_old_processed(cutoff_ts: float, settings: Settings | None = None) -> int:
    """Delete processed bounce notices older than `cutoff_ts` (epoch seconds): the Maildir's
    `.processed` files, and IMAP `processed` messages received before it. Returns how many."""
    settings = settings or get_settings()
    removed = 0
    if settings.bounce_maildir_path:
        folder = settings.bounce_maildir_path / f".{PROCESSED}"
        for sub in ("cur", "new"):
            if not (folder / sub).is_dir():
                continue
            for path in (folder / sub).iterdir():
                if path.is_file() and path.stat().st_mtime < cutoff_ts:
                    path.unlink(missing_ok=True)
                    removed += 1
    if settings.bounce_imap_host:
        import time

        source = ImapSource(settings)
        with source:
            conn = source.conn
            if conn.select(PROCESSED)[0] == "OK":
                before = time.strftime("%d-%b-%Y", time.gmtime(cutoff_ts))
                typ, data = conn.uid("SEARCH", None, "BEFORE", before)
                uids = (data[0] or b"").split() if typ == "OK" else []
                if uids:
                    conn.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Deleted)")
                    conn.expunge()
                removed += len(uids)
    return removed
