"""Case statuses as the README lists them, derived from the events."""

from __future__ import annotations

import pytest

from models.domain.status import case_status
from models.domain.vocabulary import CASE_STATUSES


@pytest.mark.parametrize(
    ("events", "scheduled", "status"),
    [
        ((), False, "new"),
        (("information-given",), False, "information-given"),
        (("information-given", "mediation-requested"), False, "mediation-requested"),
        (("mediation-requested",), True, "mediation-arranged"),
        (("mediation-declined",), False, "certificate-pending"),
        (("mediation-requested", "la-cannot-arrange"), False, "certificate-pending"),
        (("mediation-requested", "withdrawn"), False, "withdrawn"),
        # a concluded mediation stays mediation-concluded until its certificate is issued or it is closed
        (("mediation-requested", "la-received-request", "mediation-concluded"), False, "mediation-concluded"),
        (("mediation-requested", "mediation-concluded", "agreement-reached"), False, "mediation-concluded"),
        (("mediation-requested", "mediation-concluded", "certificate-issued"), False, "certificate-issued"),
        (("mediation-requested", "mediation-concluded", "closed"), False, "closed"),
        (("mediation-requested", "mediation-concluded"), True, "mediation-concluded"),
        (("mediation-declined", "certificate-issued"), False, "certificate-issued"),
        (("mediation-declined", "mediation-requested"), False, "mediation-requested"),
    ],
)
def test_status_follows_the_latest_event(events, scheduled, status):
    assert case_status(events, session_scheduled=scheduled) == status


def test_every_status_is_in_the_vocabulary_and_each_is_reachable():
    reached = {
        case_status(events, scheduled)
        for events, scheduled in [
            ((), False),
            (("information-given",), False),
            (("mediation-requested",), False),
            (("mediation-requested",), True),
            (("mediation-declined",), False),
            (("mediation-declined", "certificate-issued"), False),
            (("mediation-concluded",), False),
            (("withdrawn",), False),
            (("closed",), False),
        ]
    }

    assert reached == set(CASE_STATUSES)
