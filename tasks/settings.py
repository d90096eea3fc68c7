"""Settings from the environment (and a `.env` file in the working directory).

Exactly the variables of README.md "Configuration". `get_settings()` is cached; tests
that change the environment call `get_settings.cache_clear()`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import InvalidInput
from tasks.wiring import current  # imports nothing of this module at run time


class Settings(BaseSettings):
    # An empty value (`DRS_SMTP_HOST=` in a `.env` template) means unset: the default applies.
    model_config = SettingsConfigDict(env_prefix="DRS_", env_file=".env", extra="ignore", env_ignore_empty=True)

    home: Path = Field(default=Path("./var"), description="data folder")
    database_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None  # never printed: `.get_secret_value()` where it is used
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    mail_from: str = "mediation@example.org"
    team_email: str = "team@example.org"
    timezone: str = "Europe/London"
    smtp_rate_per_minute: int | None = Field(default=None, ge=0)
    demo: bool = True
    operator: str | None = None  # DRS_OPERATOR: the person named in the audit trail (default: the OS user)
    # DRS_INBOX_STABLE_SECONDS: read by tasks.intake.inbox.stable_interval(); declared here so a bad
    # value stops the command at start like every other setting (it was silently replaced).
    inbox_stable_seconds: float = Field(default=2.0, ge=0, le=60, allow_inf_nan=False)

    # Every value is checked when the settings are read (issue 12): a bad one stops the command
    # before anything is written, with one line naming the variable (`get_settings`).
    @field_validator("*", mode="before")
    @classmethod
    def _one_line(cls, value):
        if isinstance(value, str) and any(c in value for c in "\r\n\x00"):
            raise ValueError("must be one line (no line break or NUL character)")
        return value

    @field_validator("mail_from", "team_email")
    @classmethod
    def _address(cls, value: str) -> str:
        from models.domain.fields import email_problem  # THE email check

        problem = email_problem(value)
        if problem:
            raise ValueError(problem.removeprefix("is "))
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, OSError, LookupError):
            raise ValueError("not a known time zone (e.g. Europe/London)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(value).get_dialect()
        except (ArgumentError, ValueError):
            raise ValueError("not a database URL (e.g. postgresql+psycopg://user@host/db)") from None
        except (NoSuchModuleError, ImportError):
            raise ValueError(
                "not a database this installation can use (sqlite:///… or postgresql+psycopg://…)"
            ) from None
        return value

    @field_validator("smtp_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c.isspace() for c in value.strip()) or "/" in value):
            raise ValueError("not a host name or address")
        return value.strip() if value else value

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


class SettingsError(InvalidInput):
    """A configuration variable has a value that cannot be used; the message names it (one line)."""


def get_settings() -> Settings:
    """The settings in force: the job's wiring (`tasks.wiring`), else the environment's (cached)."""
    wiring = current()
    return wiring.settings if wiring is not None else read_settings()


@lru_cache(maxsize=1)
def read_settings() -> Settings:
    """The settings from the environment, checked; cached (`get_settings.cache_clear()` clears it)."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "DRS_" + "_".join(str(part) for part in error.get("loc", ())).upper()
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            secret = "PASSWORD" in name or name == "DRS_DATABASE_URL"  # never echo a secret
            shown = "" if secret else f"={error.get('input')!r}"
            problems.append(f"{name}{shown}: {message}")
        raise SettingsError("bad configuration: " + "; ".join(problems)) from None


get_settings.cache_clear = read_settings.cache_clear  # type: ignore[attr-defined]  # tests that change the environment
