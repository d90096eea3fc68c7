"""Every setting is checked when it is read (issue 12 §2): one line naming the variable, never
a secret echoed; good values still pass."""

from __future__ import annotations

import pytest

from tasks.settings import SettingsError, get_settings
from tests.unit.test_settings import clean_env  # noqa: F401 — the fixture

BAD = [
    ("DRS_SMTP_PORT", "0"),
    ("DRS_SMTP_PORT", "65536"),
    ("DRS_SMTP_PORT", "-25"),
    ("DRS_SMTP_PORT", "smtp"),
    ("DRS_SMTP_RATE_PER_MINUTE", "-1"),
    ("DRS_SMTP_RATE_PER_MINUTE", "1.5"),
    ("DRS_MAIL_FROM", "mediation"),
    ("DRS_MAIL_FROM", "a@@example.org"),
    ("DRS_MAIL_FROM", "Team <a@example.org>"),
    ("DRS_TEAM_EMAIL", "team@example.org\r\nBcc: x@example.org"),
    ("DRS_TEAM_EMAIL", "team@localhost"),
    ("DRS_TIMEZONE", "Europe/Londres"),
    ("DRS_TIMEZONE", "../../etc/passwd"),
    ("DRS_DATABASE_URL", "not a url"),
    ("DRS_DATABASE_URL", "postgresql+psycopg://u:p@h:notaport/db"),
    ("DRS_SMTP_SECURITY", "tls"),
    ("DRS_SMTP_HOST", "mail relay"),
    ("DRS_SMTP_USER", "user\nname"),
    ("DRS_HOME", "/srv/drs\n/x"),
    ("DRS_DEMO", "perhaps"),
    # qa-12: the inbox's stability interval was read apart and a bad value silently replaced
    ("DRS_INBOX_STABLE_SECONDS", "-5"),
    ("DRS_INBOX_STABLE_SECONDS", "1e9"),
    ("DRS_INBOX_STABLE_SECONDS", "nan"),
    ("DRS_INBOX_STABLE_SECONDS", "soon"),
]


@pytest.mark.parametrize("name,value", BAD)
def test_a_bad_value_stops_with_one_line_naming_it(clean_env, monkeypatch, name, value):  # noqa: F811
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        get_settings()
    text = str(caught.value)
    assert "\n" not in text and "\r" not in text
    assert text.startswith(f"bad configuration: {name}")


def test_secrets_are_never_echoed(clean_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DRS_SMTP_PASSWORD", "hunter2\nQUIT")
    monkeypatch.setenv("DRS_DATABASE_URL", "postgresql+psycopg://drs:s3cret@db:nope/drs")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    text = str(caught.value)
    assert "DRS_SMTP_PASSWORD" in text and "DRS_DATABASE_URL" in text
    assert "hunter2" not in text and "s3cret" not in text


@pytest.mark.parametrize(
    "name,value",
    [
        ("DRS_SMTP_PORT", "1"),
        ("DRS_SMTP_PORT", "65535"),
        ("DRS_SMTP_RATE_PER_MINUTE", "0"),
        ("DRS_MAIL_FROM", "mediation@service.example.org"),
        ("DRS_TEAM_EMAIL", "sen-team@council.gov.uk"),
        ("DRS_TIMEZONE", "UTC"),
        ("DRS_DATABASE_URL", "postgresql+psycopg://drs@127.0.0.1:5432/drs"),
        ("DRS_SMTP_HOST", "smtp.office365.com"),
        ("DRS_SMTP_SECURITY", "ssl"),
    ],
)
def test_good_values_pass(clean_env, monkeypatch, name, value):  # noqa: F811
    monkeypatch.setenv(name, value)
    get_settings()


def test_the_rate_pause_is_never_negative():
    from tasks.mail.delivery import _pause_between_messages

    assert _pause_between_messages(None) == _pause_between_messages(0) == 0.0
    assert _pause_between_messages(-5) == 0.0 and _pause_between_messages(30) == 2.0
