"""The bounce mailbox settings (issue 15): unset by default, validated, the password a secret."""

from __future__ import annotations

import os

import pytest

from tasks.settings import SettingsError, get_settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in [k for k in os.environ if k.startswith("DRS_BOUNCE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_unset_by_default_and_imaps(env):
    s = get_settings()
    assert (s.bounce_maildir, s.bounce_imap_host, s.bounce_imap_password) == (None, None, None)
    assert (s.bounce_imap_folder, s.bounce_imap_security) == ("INBOX", "ssl")


def test_the_embedded_demo_reads_a_maildir_in_the_data_folder_and_a_real_set_up_nothing_unless_told(env):
    env.delenv("DRS_SMTP_HOST", raising=False)
    env.delenv("DRS_DEMO", raising=False)
    env.setenv("DRS_HOME", "/srv/drs")
    assert str(get_settings().bounce_maildir_path) == "/srv/drs/mail/bounces"
    env.setenv("DRS_SMTP_HOST", "relay.example.org")
    get_settings.cache_clear()
    assert get_settings().bounce_maildir_path is None
    env.setenv("DRS_BOUNCE_MAILDIR", "/var/mail/drs-bounces")
    get_settings.cache_clear()
    assert str(get_settings().bounce_maildir_path) == "/var/mail/drs-bounces"


def test_the_password_never_shows(env):
    env.setenv("DRS_BOUNCE_IMAP_PASSWORD", "very-secret-value")
    s = get_settings()
    assert s.bounce_imap_password.get_secret_value() == "very-secret-value"
    assert "very-secret-value" not in repr(s) and "very-secret-value" not in str(s.model_dump())


@pytest.mark.parametrize(
    "name, value",
    [
        ("DRS_BOUNCE_IMAP_PORT", "70000"),
        ("DRS_BOUNCE_IMAP_SECURITY", "tls"),
        ("DRS_BOUNCE_IMAP_FOLDER", "INBOX\r\nA1 LOGOUT"),
    ],
)
def test_a_bad_value_names_the_variable(env, name, value):
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        get_settings()
