"""Settings: exactly the contract's variables, from the environment and a `.env` file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.settings import SettingsError, get_settings

VARIABLES = (
    "DRS_HOME",
    "DRS_DATABASE_URL",
    "DRS_SMTP_HOST",
    "DRS_SMTP_PORT",
    "DRS_SMTP_USER",
    "DRS_SMTP_PASSWORD",
    "DRS_SMTP_SECURITY",
    "DRS_MAIL_FROM",
    "DRS_TEAM_EMAIL",
    "DRS_TIMEZONE",
    "DRS_SMTP_RATE_PER_MINUTE",
    "PREFECT_HOME",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_defaults_are_the_contracts(clean_env):
    s = get_settings()
    assert s.home == Path("./var")
    assert s.db_url == f"sqlite:///{(clean_env / 'var' / 'drs.sqlite3').resolve()}"
    assert (s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password) == (None, 587, None, None)
    assert s.smtp_security == "starttls"
    assert (s.mail_from, s.team_email, s.timezone) == ("mediation@example.org", "team@example.org", "Europe/London")
    assert s.smtp_rate_per_minute is None
    assert s.prefect_home == Path("./var") / "prefect"


def test_a_dotenv_file_is_read_and_empty_values_mean_unset(clean_env):
    (clean_env / ".env").write_text(
        "DRS_HOME=/srv/drs\nDRS_TEAM_EMAIL=team@service.example.org\n"
        "DRS_SMTP_HOST=\nDRS_SMTP_PORT=\nDRS_SMTP_USER=\nDRS_SMTP_RATE_PER_MINUTE=\n"
    )
    s = get_settings()
    assert s.home == Path("/srv/drs") and s.team_email == "team@service.example.org"
    assert (s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_rate_per_minute) == (None, 587, None, None)


def test_the_environment_wins_over_dotenv(clean_env, monkeypatch):
    (clean_env / ".env").write_text("DRS_MAIL_FROM=from-file@example.org\n")
    monkeypatch.setenv("DRS_MAIL_FROM", "from-env@example.org")
    monkeypatch.setenv("DRS_SMTP_RATE_PER_MINUTE", "30")
    s = get_settings()
    assert s.mail_from == "from-env@example.org" and s.smtp_rate_per_minute == 30


def test_a_bad_value_is_one_line_naming_the_variable(clean_env, monkeypatch):
    monkeypatch.setenv("DRS_SMTP_PORT", "abc")
    monkeypatch.setenv("DRS_SMTP_SECURITY", "tls")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    text = str(caught.value)
    assert "\n" not in text and "DRS_SMTP_PORT='abc'" in text and "DRS_SMTP_SECURITY='tls'" in text


def test_the_smtp_password_is_a_secret_never_shown(clean_env, monkeypatch):
    monkeypatch.setenv("DRS_SMTP_PASSWORD", "very-secret-value")
    s = get_settings()
    assert s.smtp_password.get_secret_value() == "very-secret-value"
    assert "very-secret-value" not in repr(s) and "very-secret-value" not in str(s.model_dump())
