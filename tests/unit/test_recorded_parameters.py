"""A command's flow parameters are encoded without FastAPI when plain; anything else goes to
Prefect's own serializer. The command's process turns Prefect's telemetry and version check off."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from cli import recorded


class FakeFlow:
    def serialize_parameters(self, parameters):
        return "prefect's own"


def test_plain_values_are_encoded_here():
    flow = FakeFlow()
    recorded.serialize_plain_parameters(flow)
    moment = datetime(2026, 11, 27, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert flow.serialize_parameters(
        {
            "today": date(2026, 11, 27),
            "now": moment,
            "at": time(10, 30),
            "refs": ("DRS-1", "DRS-2"),
            "n": 3,
            "x": 1.5,
            "yes": True,
            "none": None,
        }
    ) == {
        "today": "2026-11-27",
        "now": "2026-11-27T09:00:00+01:00",
        "at": "10:30:00",
        "refs": ["DRS-1", "DRS-2"],
        "n": 3,
        "x": 1.5,
        "yes": True,
        "none": None,
    }


@pytest.mark.parametrize("value", [Decimal("1.5"), {"a": 1}, [date(2026, 1, 1), object()], b"bytes"])
def test_anything_else_goes_to_prefects_serializer(value):
    flow = FakeFlow()
    recorded.serialize_plain_parameters(flow)
    assert flow.serialize_parameters({"today": date(2026, 11, 27), "other": value}) == "prefect's own"


def test_the_command_environment_is_set_unless_already_given(monkeypatch):
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    monkeypatch.setenv("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "true")
    recorded.prepare_env()
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED"] == "true"  # the user's value wins
