"""Pure certificate rules: which trigger gives which certificate, numbers, wording (issue #4)."""

from __future__ import annotations

from datetime import date

import pytest

from models.domain.certificates import TriggerEvent, certificate_number, latest_trigger, wording


def ev(name: str, day: int) -> TriggerEvent:
    return TriggerEvent(name, date(2026, 11, day))


@pytest.mark.parametrize(
    "events, cert_type, expected",
    [
        ([ev("mediation-declined", 24)], None, ev("mediation-declined", 24)),
        # the latest trigger wins: declined, then asked for mediation after all, then it concluded
        (
            [ev("mediation-declined", 2), ev("mediation-requested", 9), ev("mediation-concluded", 24)],
            None,
            ev("mediation-concluded", 24),
        ),
        # ... but a type picks its own trigger
        (
            [ev("mediation-declined", 2), ev("mediation-requested", 9), ev("mediation-concluded", 24)],
            "declined",
            ev("mediation-declined", 2),
        ),
        # withdrawing before any request gives no certificate (UNVERIFIED by analogy, reg 34 heading)
        ([ev("withdrawn", 3)], None, None),
        ([ev("mediation-requested", 2), ev("withdrawn", 3)], None, ev("withdrawn", 3)),
        ([ev("la-cannot-arrange", 24)], "after-mediation", None),
        ([ev("information-given", 24)], None, None),
    ],
)
def test_latest_trigger(events, cert_type, expected):
    assert latest_trigger(events, cert_type) == expected


def test_certificate_number_is_by_year():
    assert certificate_number(2026, 7) == "MC-2026-00007"


def test_wording_without_a_deadline_still_explains_the_rule():
    w = wording(
        "after-mediation",
        trigger_on=date(2026, 11, 24),
        issued_on=date(2026, 11, 25),
        decision_type=None,
        letter_sent_on=None,
        appeal_deadline=None,
    )
    assert "one month of the date of this certificate" in w.appeal_meaning
    assert "concluded on Tuesday 24 November 2026" in w.statement
    with pytest.raises(ValueError):
        wording(
            "lost",
            trigger_on=date(2026, 11, 24),
            issued_on=date(2026, 11, 25),
            decision_type=None,
            letter_sent_on=None,
            appeal_deadline=None,
        )
