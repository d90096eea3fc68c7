"""Shared fixtures: real databases (SQLite always, PostgreSQL when DRS_TEST_POSTGRES_URL is set),
a real SMTP server on loopback, the `drs` CLI in-process, and one Prefect harness per session.

Every test that asks for `drs_env` runs once per database. Schemas come from the real Alembic
migrations (never `create_all`): SQLite copies a migrated template file per test, PostgreSQL
gets a database of its own for the session, truncated between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
LA_CSV = """code,name,aliases,sen_team_email,finance_email,mileage_rate_pence,receipt_threshold_pounds,claim_window_days
E08000006,Salford,Salford City Council,sen@salford.example.org,finance@salford.example.org,45,10,90
E08000003,Manchester,Manchester City Council,sen@manchester.example.org,finance@manchester.example.org,40,20,60
E08000001,Bolton,Bolton Council,sen@bolton.example.org,finance@bolton.example.org,45,10,90
E06000008,Blackburn with Darwen,Blackburn;BwD,sen@bwd.example.org,finance@bwd.example.org,30,5,30
"""


def _database_params() -> list[str]:
    params = ["sqlite"]
    if os.environ.get("DRS_TEST_POSTGRES_URL"):
        params.append("postgresql")
    return params


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    from models.db.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "drs.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    from models.db.migrate import upgrade

    base = make_url(os.environ["DRS_TEST_POSTGRES_URL"])
    name = f"drs_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    from tasks.db import engine_for

    engine_for(url).dispose()
    engine_for.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    from models.db import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # past audit_log's no-truncate guard
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=_database_params())
def database_url(request, tmp_path) -> str:
    """A migrated, empty database of each kind, for this test alone."""
    if request.param == "sqlite":
        path = tmp_path / "drs.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def drs_env(database_url, tmp_path, monkeypatch):
    """The project's settings pointed at a fresh DRS_HOME and database; returns the Settings."""
    from tasks.settings import get_settings

    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("DRS_") and key != "DRS_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("DRS_HOME", str(home))
    monkeypatch.setenv("DRS_DATABASE_URL", database_url)
    monkeypatch.setenv("DRS_TEAM_EMAIL", "team@service.example.org")
    monkeypatch.setenv("DRS_MAIL_FROM", "mediation@service.example.org")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    if database_url.startswith("sqlite"):
        from tasks.db import engine_for

        engine_for(database_url).dispose()


@pytest.fixture
def las(drs_env, tmp_path) -> dict[str, str]:
    """Four local authorities in the register; returns name -> ONS code."""
    from datetime import datetime

    from tasks.cases.registry import parse_la_csv, upsert_local_authority
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        rows = parse_la_csv(LA_CSV)
        for row in rows:
            upsert_local_authority(db, row, datetime(2024, 1, 1, tzinfo=UTC))
        db.commit()
    return {row.name: row.code for row in rows}


@dataclass
class Mailbox:
    """What a real SMTP server on loopback received, parsed."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def clear(self) -> None:
        self.messages.clear()
        self.envelopes.clear()


@pytest.fixture
def smtp_server(drs_env, monkeypatch) -> Iterator[Mailbox]:
    """A real aiosmtpd server on 127.0.0.1; DRS_SMTP_* point at it (no TLS, no login)."""
    import socket

    from aiosmtpd.controller import Controller

    from tasks.settings import get_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            box.messages.append(
                message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            )
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_PORT", str(port))
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    get_settings.cache_clear()
    yield box
    controller.stop()
    get_settings.cache_clear()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


@pytest.fixture
def drs(drs_env):
    """Run `drs ARGS…` in-process (same code as the console script); returns exit code and output."""
    from click.testing import CliRunner

    from cli.main import drs as group
    from tasks.settings import get_settings

    def run(*args: str) -> CliResult:
        get_settings.cache_clear()
        result = CliRunner().invoke(group, list(args), catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One Prefect test server for the whole session (≈ 18 s to start), heartbeats off."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "200")
    os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE", "200")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings(restore_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY}):
            yield


@pytest.fixture(autouse=True)
def _no_operator_left_behind() -> Iterator[None]:
    """An admin form called in-process names its operator in a context variable; a served run has a
    process of its own, a test does not: forget the name after each test."""
    yield
    import sys

    if "tasks.privacy.audit_trail" in sys.modules:
        sys.modules["tasks.privacy.audit_trail"].set_operator(None)
