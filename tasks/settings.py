"""Settings from the environment (and a `.env` file in the working directory).

Exactly the variables of CONTRACT.md §Configuration. `get_settings()` is cached; tests
that change the environment call `get_settings.cache_clear()`.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # An empty value (`DRS_SMTP_HOST=` in a `.env` template) means unset: the default applies.
    model_config = SettingsConfigDict(env_prefix="DRS_", env_file=".env", extra="ignore", env_ignore_empty=True)

    home: Path = Field(default=Path("./var"), description="data folder")
    database_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    mail_from: str = "mediation@example.org"
    team_email: str = "team@example.org"
    timezone: str = "Europe/London"
    smtp_rate_per_minute: int | None = None
    demo: bool = True
    # the bounce mailbox (issue 15): a local Maildir and/or an IMAP mailbox (IMAPS by default)
    bounce_maildir: Path | None = None
    bounce_imap_host: str | None = None
    bounce_imap_port: int | None = Field(default=None, ge=1, le=65535)
    bounce_imap_user: str | None = None
    bounce_imap_password: SecretStr | None = None
    bounce_imap_folder: str = Field(default="INBOX", min_length=1, pattern=r"^[^\r\n]+$")
    bounce_imap_security: Literal["ssl", "starttls", "none"] = "ssl"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: `DRS_DATABASE_URL`, else the SQLite file in `DRS_HOME`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home.resolve() / 'drs.sqlite3'}"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def certificates_dir(self) -> Path:
        return self.home / "certificates"

    @property
    def bounce_maildir_path(self) -> Path | None:
        """The bounce Maildir read: `DRS_BOUNCE_MAILDIR`; unset, in the embedded demo set-up (demo
        on, no SMTP relay, no IMAP bounce mailbox) `$DRS_HOME/mail/bounces`; else none."""
        if self.bounce_maildir:
            return self.bounce_maildir
        if self.demo and not self.smtp_host and not self.bounce_imap_host:
            return self.home / "mail" / "bounces"
        return None

    @property
    def prefect_home(self) -> Path:
        return Path(os.environ.get("PREFECT_HOME") or (self.home / "prefect"))

    @property
    def extra_holidays_file(self) -> Path:
        """Admin-editable file of proclaimed one-off bank holidays (`date,name`)."""
        return self.home / "extra-holidays.csv"


class SettingsError(ValueError):
    """A configuration variable has a value that cannot be used; the message names it (one line)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "DRS_" + "_".join(str(part) for part in error.get("loc", ())).upper()
            problems.append(f"{name}={error.get('input')!r}: {error.get('msg', 'invalid')}")
        raise SettingsError("bad configuration: " + "; ".join(problems)) from None
