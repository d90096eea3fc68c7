"""The deadline-monitor flow, run for real on consecutive days over one case's life: the exact
emails a real SMTP server received, each once; the digest artifact without personal data; and
the pause for a certificate an LA wants approved (issue #4)."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

import pytest

from tests.monitor_cases import FAMILY_EMAIL, PERSONAL, add_event, at, make_case, set_needs_approval

pytestmark = pytest.mark.flow
SALFORD, MANCHESTER = "E08000006", "E08000003"
TEAM, LA = "team@service.example.org", "sen@salford.example.org"


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


def received_keys(mailbox) -> list[tuple[str, str]]:
    """(recipient, outbox key with `:` and `_` as `.`) of every message received, found through the
    Message-ID each outbox row stores."""
    from sqlalchemy import select

    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        keys = {mid.strip("<>"): key for mid, key in db.execute(select(OutboxEmail.message_id, OutboxEmail.key)) if mid}
    return [
        (str(m["To"]), re.sub(r"[^A-Za-z0-9.\-]", ".", keys[str(m["Message-ID"]).strip("<>")]))
        for m in mailbox.messages
    ]


def as_ids(pairs) -> list[tuple[str, str]]:
    return sorted((to, re.sub(r"[^A-Za-z0-9.\-]", ".", key)) for to, key in pairs)


def test_monitor_over_a_case_life_sends_each_email_once(prefect_harness, smtp_server, las):
    from flows.monitor import deadline_monitor
    from tasks.certificates.issue import issue_certificate
    from tasks.mail.delivery import deliver_pending

    ref = make_case(
        SALFORD,
        received_on=date(2026, 10, 29),
        letter_sent_on=date(2026, 10, 20),
        events=(
            ("information-given", date(2026, 10, 30), {}),
            ("mediation-requested", date(2026, 10, 30), {}),
            ("la-received-request", date(2026, 11, 2), {}),
        ),
    )  # mediation_by Wed 2 Dec 2026
    k = ref
    expected = {
        date(2026, 11, 30): [
            (LA, f"alert:{k}:mediation_by:due-soon:2026-12-02:la"),
            (TEAM, f"alert:{k}:mediation_by:due-soon:2026-12-02:team"),
            (TEAM, "digest:2026-11-30"),
        ],
        date(2026, 12, 1): [(TEAM, "digest:2026-12-01")],
        date(2026, 12, 2): [
            (LA, f"alert:{k}:mediation_by:due-today:2026-12-02:la"),
            (TEAM, f"alert:{k}:mediation_by:due-today:2026-12-02:team"),
            (TEAM, "digest:2026-12-02"),
        ],
        # after mediation (Wed 2 Dec) the certificate is due Mon 7 Dec
        date(2026, 12, 3): [(TEAM, f"alert:{k}:certificate_due:due-soon:2026-12-07:team"), (TEAM, "digest:2026-12-03")],
        date(2026, 12, 4): [(TEAM, "digest:2026-12-04"), (FAMILY_EMAIL, "certificate:MC-2026-00001")],
        date(2026, 12, 5): [],
        date(2026, 12, 6): [],
        date(2026, 12, 7): [(TEAM, "digest:2026-12-07")],
        # appeal deadline Mon 4 Jan 2027 (certificate 4 Dec + 1 month): reminders Mon 21 and Tue 29 Dec
        date(2026, 12, 21): [
            (FAMILY_EMAIL, f"alert:{k}:appeal_deadline:appeal-2-weeks:2027-01-04:family"),
            (TEAM, "digest:2026-12-21"),
        ],
        date(2026, 12, 28): [],  # a bank holiday (substitute for Boxing Day): no digest
        date(2026, 12, 29): [
            (FAMILY_EMAIL, f"alert:{k}:appeal_deadline:appeal-3-wd:2027-01-04:family"),
            (TEAM, "digest:2026-12-29"),
        ],
    }
    started = time.monotonic()
    everything: list[tuple[str, str]] = []
    read: dict = {}
    # every day for a week and a day, then the reminder days around Christmas
    for day in [
        *days(date(2026, 11, 30), date(2026, 12, 7)),
        date(2026, 12, 21),
        date(2026, 12, 28),
        date(2026, 12, 29),
    ]:
        smtp_server.clear()
        summary = deadline_monitor(today=day, now=at(day, 6, 45))
        if day == date(2026, 11, 30):
            assert deadline_monitor(today=day, now=at(day, 12, 45))["emails_queued"] == 0  # the midday run
        if day == date(2026, 12, 2):
            add_event(ref, "mediation-concluded", day)
        if day == date(2026, 12, 4):
            assert issue_certificate(ref, day, today=day, now=at(day, 10))["appeal_deadline"] == "2027-01-04"
        deliver_pending(at(day, 11, 0))
        assert sorted(received_keys(smtp_server)) == as_ids(expected[day]), (day, summary)
        everything += received_keys(smtp_server)
        read[day] = list(smtp_server.messages)
    assert time.monotonic() - started < 90
    assert len(everything) == len(set(everything)) == sum(len(v) for v in expected.values())

    # what the LA, the team and the family actually read
    la_mail = next(m for m in read[date(2026, 11, 30)] if str(m["To"]) == LA)
    team_mail = next(m for m in read[date(2026, 11, 30)] if "due soon" in str(m["Subject"]) and str(m["To"]) == TEAM)
    assert ref in str(la_mail["Subject"]) and PERSONAL[1] in la_mail.get_body(("plain",)).get_content()
    for secret in PERSONAL:
        assert secret not in str(team_mail["Subject"]) + team_mail.get_body(("plain",)).get_content()
    digest = next(m for m in read[date(2026, 12, 1)] if str(m["To"]) == TEAM).get_body(("plain",)).get_content()
    assert "When each scheduled job last succeeded:" in digest
    assert "deadline-monitor: last succeeded" in digest  # other jobs' lines depend on what ran before
    reminder = next(m for m in read[date(2026, 12, 21)] if str(m["To"]) == FAMILY_EMAIL)
    assert str(reminder["Subject"]) == "Reminder: your appeal deadline is Monday 4 January 2027"
    assert f"Dear {PERSONAL[0]}" in reminder.get_body(("plain",)).get_content()
    certificate = next(m for m in read[date(2026, 12, 4)] if str(m["To"]) == FAMILY_EMAIL)
    assert [a.get_content_type() for a in certificate.iter_attachments()] == ["application/pdf"]

    # closing the case stops the family's reminders; the digest goes on
    smtp_server.clear()
    add_event(ref, "closed", date(2026, 12, 30), today=date(2026, 12, 30))
    deadline_monitor(today=date(2026, 12, 30), now=at(date(2026, 12, 30), 6, 45))
    deliver_pending(at(date(2026, 12, 30), 11))
    assert received_keys(smtp_server) == as_ids([(TEAM, "digest:2026-12-30")])


def test_digest_artifact_has_references_only(prefect_harness, drs_env, las):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from flows.monitor import deadline_monitor

    ref = make_case(
        SALFORD,
        received_on=date(2026, 10, 29),
        letter_sent_on=date(2026, 10, 20),
        events=(
            ("information-given", date(2026, 10, 30), {}),
            ("mediation-requested", date(2026, 10, 30), {}),
            ("la-received-request", date(2026, 11, 2), {}),
        ),
    )
    deadline_monitor(today=date(2026, 11, 30), now=at(date(2026, 11, 30), 6, 45))
    with get_client(sync_client=True) as client:
        found = {}
        for key in ("deadline-digest", "deadline-digest-summary"):
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
            found[key] = str(artifacts[0].data) if artifacts else ""
    assert ref in found["deadline-digest"] and "mediation_by" in found["deadline-digest"]
    assert ref in found["deadline-digest-summary"]
    for text in found.values():
        for secret in PERSONAL:
            assert secret not in text


def answer_next_pause(answer: dict, seen: set) -> None:
    """Wait for a flow run to pause in a state not `seen` before, then resume it with `answer`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateName
    from prefect.flow_runs import resume_flow_run

    paused = None
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while paused is None and time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Paused"])))
            )
            paused = next((r for r in runs if r.state.id not in seen), None)
            time.sleep(0.3)
    assert paused is not None, "the run never paused for approval"
    seen.add(paused.state.id)
    for _ in range(40):  # the run saves its form's schema just after pausing: retry until accepted
        try:
            resume_flow_run(paused.id, run_input=answer)
            return
        except RuntimeError:
            time.sleep(0.25)
    raise AssertionError("the paused run did not accept the answer")


def test_certificates_needing_approval_pause_the_run_and_follow_the_answers(prefect_harness, smtp_server, las):
    from sqlalchemy import select

    from flows.monitor import deadline_monitor
    from models.db import Case, Certificate
    from tasks.db import unit_of_work
    from tasks.mail.delivery import deliver_pending

    set_needs_approval(MANCHESTER)
    approved = make_case(
        MANCHESTER,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 23), {})),
    )
    refused = make_case(
        MANCHESTER,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
        email="other.parent@families.example",
    )
    day = date(2026, 11, 25)
    result: dict = {}
    runner = threading.Thread(
        target=lambda: result.update(
            deadline_monitor(today=day, now=at(day, 6, 45), approval_timeout_seconds=120, approval_poll_seconds=1)
        )
    )
    runner.start()
    seen: set = set()
    answer_next_pause({"approve": True, "reason": "checked with the family"}, seen)
    answer_next_pause({"approve": False, "reason": "decline recorded in error"}, seen)
    runner.join(timeout=60)
    assert not runner.is_alive()
    assert result["certificates_issued"] == [approved] and result["certificates_refused"] == [refused]
    assert result["awaiting_approval"] == []
    with unit_of_work() as db:
        rows = dict(db.execute(select(Case.ref, Certificate.status).join(Case)).all())
        notes = db.scalars(select(Certificate.approval_note).order_by(Certificate.id)).all()
    assert rows == {approved: "issued", refused: "refused"}
    assert "checked with the family" in notes[0] and "in error" in notes[1]
    deliver_pending(at(day, 11))
    certificates = [m for m in smtp_server.to(FAMILY_EMAIL) if "certificate" in str(m["Subject"]).lower()]
    assert len(certificates) == 1
    assert any(part.get_content_type() == "application/pdf" for part in certificates[0].iter_attachments())
    assert not smtp_server.to("other.parent@families.example")
    # the refused one is not asked about again
    assert deadline_monitor(today=day, now=at(day, 12, 45), approval_timeout_seconds=5)["awaiting_approval"] == []


def test_an_unanswered_approval_times_out_and_the_run_still_completes(prefect_harness, drs_env, las):
    from sqlalchemy import select

    from flows.monitor import deadline_monitor
    from models.db import Certificate
    from tasks.db import unit_of_work

    set_needs_approval(MANCHESTER)
    ref = make_case(
        MANCHESTER,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    state = deadline_monitor(
        today=date(2026, 11, 25),
        now=at(date(2026, 11, 25), 6, 45),
        approval_timeout_seconds=2,
        approval_poll_seconds=1,
        return_state=True,
    )
    assert state.is_completed(), state
    summary = state.result()
    assert summary["awaiting_approval"] == [ref] and summary["certificates_issued"] == []
    with unit_of_work() as db:
        assert db.scalar(select(Certificate.status)) == "awaiting_approval"


def test_drs_monitor_runs_the_flow_when_a_server_is_reachable_and_never_pauses(prefect_harness, drs, las, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    set_needs_approval(MANCHESTER)
    ref = make_case(
        MANCHESTER,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    started = time.monotonic()
    r = drs("monitor", "--today", "2026-11-25", "--json")
    assert r.exit_code == 0, r.stderr
    assert "not recorded" not in r.stderr
    assert r.json()["awaiting_approval"] == [ref] and r.json()["digest_queued"] is True
    assert time.monotonic() - started < 20
