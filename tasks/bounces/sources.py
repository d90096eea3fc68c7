"""Where bounce notices are read from: a local Maildir or an IMAP mailbox (settings, CONTRACT §Configuration).

- a local Maildir, `DRS_BOUNCE_MAILDIR` (a relay or mail rule delivers there; no server needed;
  in the embedded demo set-up — no SMTP relay — `$DRS_HOME/mail/bounces`):
  each message in `new/` and `cur/` is read and then MOVED to the `processed` sub-maildir
  (Maildir++ `.processed/cur/`);
- an IMAP mailbox (stdlib `imaplib`): `DRS_BOUNCE_IMAP_HOST`, `_PORT` (993), `_USER`,
  `_PASSWORD`, `_FOLDER` (INBOX), `_SECURITY` (`ssl` = IMAPS, the default; `starttls`; `none`
  only for a loopback test server). Each message is read with `BODY.PEEK[]` and then MOVED to
  the `processed` folder (MOVE, or COPY + delete when the server lacks MOVE) — never deleted
  unread.
The raw messages stay in `processed` until `retention` empties it (`remove_old_processed`).
"""

from __future__ import annotations

import imaplib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

from models.errors import InternalError
from tasks.settings import Settings, get_settings

PROCESSED = "processed"
IMAP_TIMEOUT_SECONDS = 30


class BounceMailboxError(InternalError):
    """The bounce mailbox cannot be read (the text names the setting or server, no personal data)."""


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
        host = s.bounce_imap_host or ""
        conn: imaplib.IMAP4
        try:
            if s.bounce_imap_security == "ssl":
                conn = imaplib.IMAP4_SSL(
                    host, port, ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT_SECONDS
                )
            else:
                conn = imaplib.IMAP4(host, port, timeout=IMAP_TIMEOUT_SECONDS)
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

    @property
    def imap(self) -> imaplib.IMAP4:
        """The open connection (inside `with source:`)."""
        if self.conn is None:
            raise BounceMailboxError("the bounce mailbox is not open")
        return self.conn

    def messages(self) -> Iterator[tuple[str, bytes]]:
        typ, data = self.imap.uid("SEARCH", "ALL")
        if typ != "OK":
            raise BounceMailboxError("the bounce mailbox refused SEARCH")
        for uid in (data[0] or b"").split():
            typ, parts = self.imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or () if isinstance(p, tuple) and len(p) > 1), None)
            if typ == "OK" and raw is not None:
                yield uid.decode(), raw

    def done(self, uid: str) -> None:
        if self.can_move:
            typ, _ = self.imap.uid("MOVE", uid, PROCESSED)
            if typ == "OK":
                return
        typ, _ = self.imap.uid("COPY", uid, PROCESSED)
        if typ != "OK":
            raise BounceMailboxError("the bounce mailbox refused to copy a message to 'processed'")
        self.imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        self.imap.expunge()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def configured_sources(settings: Settings) -> list[MaildirSource | ImapSource]:
    sources: list[MaildirSource | ImapSource] = []
    if settings.bounce_maildir_path:
        sources.append(MaildirSource(settings.bounce_maildir_path))
    if settings.bounce_imap_host:
        sources.append(ImapSource(settings))
    return sources


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
            conn = source.imap
            if conn.select(PROCESSED)[0] == "OK":
                before = time.strftime("%d-%b-%Y", time.gmtime(cutoff_ts))
                typ, data = conn.uid("SEARCH", "BEFORE", before)
                uids = (data[0] or b"").split() if typ == "OK" else []
                if uids:
                    conn.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Deleted)")
                    conn.expunge()
                removed += len(uids)
    return removed
