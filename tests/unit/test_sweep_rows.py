"""`tasks.deadlines.sweep._watched` fills a `WatchedClock`'s `__dict__` directly (issue 14): the
result must be the object the dataclass's own constructor makes."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from models.domain.alerts import WatchedClock
from tasks.deadlines.sweep import _watched

ROWS = [
    # case_id, name, due, target, state, owner, level, started_on, note, ref, service, decision,
    # sections, appeal_lodged, la_code, cert_state
    (7, "certificate_due", date(2026, 12, 3), date(2026, 12, 4), "open", "la", "", date(2026, 1, 1), None,
     "DRS-2026-000007", "mediation", None, '["B"]', 0, "E09000001", "met"),
    (8, "appeal_deadline", date(2027, 1, 3), date(2027, 1, 4), "missed", "family", None, None, "a note",
     "DRS-2026-000008", "mediation", "refuse", '["B", "F"]', 1, "E09000002", None),
    (9, "appeal_deadline", date(2027, 1, 3), date(2027, 1, 4), "open", "family", "x", None, "",
     "DRS-2026-000009", "advice", None, None, None, "E09000003", "open"),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS)
def test_a_row_becomes_the_clock_the_constructor_makes(row):
    case_id, name, due, target, state, owner, level, started_on, note, ref = row[:10]
    from tasks.deadlines.sweep import _settled_without_clock

    cert = row[15]
    settled = (
        cert in ("met", "not_applicable") if cert is not None else _settled_without_clock(row[10], row[11], row[12])
    )
    expected = WatchedClock(
        case_ref=ref,
        la_code=row[14],
        name=name,
        due=due,
        target=target,
        state=state,
        owner=owner,
        level=level,
        started_on=started_on,
        note=note or "",
        case_id=case_id,
        certificate_settled=settled,
        appeal_lodged=bool(row[13]),
    )
    got = _watched(row)
    assert type(got) is WatchedClock
    assert got == expected and hash(got) == hash(expected) and repr(got) == repr(expected)
    assert vars(got) == vars(expected) and list(vars(got)) == list(vars(expected))
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.state = "met"  # type: ignore[misc]
