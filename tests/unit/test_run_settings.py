"""What `make run` gives the Prefect server: retention for a year unattended, the port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cli import run


def test_the_server_is_started_with_flow_run_and_event_retention():
    from prefect.settings import Settings

    env = run.server_env({"PATH": "/bin"}, "http://127.0.0.1:4201/api", "http://127.0.0.1:4201")
    prefect_env = {k: v for k, v in env.items() if k.startswith("PREFECT_")}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in prefect_env.items():
            mp.setenv(key, value)
        settings = Settings()
    vacuum = settings.server.services.db_vacuum
    assert {"flow_runs", "events"} <= vacuum.enabled_vacuum_types
    assert vacuum.retention_period == timedelta(days=90)
    assert settings.server.events.retention_period == timedelta(days=7)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4201/api"


def test_an_operator_setting_wins_over_the_default_retention():
    env = run.server_env({"PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": "31536000"}, "a", "u")
    assert env["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"] == "31536000"


def test_prefect_on_its_own_would_keep_every_run_for_ever():
    """Why `make run` sets it: the installed Prefect vacuums only events by default."""
    from prefect.settings import Settings

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", raising=False)
        assert "flow_runs" not in Settings().server.services.db_vacuum.enabled_vacuum_types


@pytest.mark.parametrize(("value", "port"), [(None, 4200), ("", 4200), ("4300", 4300), (" 8080 ", 8080)])
def test_the_dashboard_port_comes_from_prefect_server_api_port(monkeypatch, value, port):
    if value is None:
        monkeypatch.delenv("PREFECT_SERVER_API_PORT", raising=False)
    else:
        monkeypatch.setenv("PREFECT_SERVER_API_PORT", value)
    assert run.server_port() == port


@pytest.mark.parametrize("value", ["http", "0", "70000", "-1"])
def test_a_bad_port_is_refused_with_the_variable_named(monkeypatch, value):
    monkeypatch.setenv("PREFECT_SERVER_API_PORT", value)
    with pytest.raises(ValueError, match="PREFECT_SERVER_API_PORT"):
        run.server_port()
