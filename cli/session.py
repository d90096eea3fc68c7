"""`drs session schedule|reschedule|cancel|outcome` and `drs remind`.

`schedule` prints what it did and the new session id as the last line on stdout. Refusals
(double-booked mediator or venue, a start in the past, an end before the start, an unknown
case or mediator, inside the notice period without `--short-notice-agreed`) exit 2 with one
line on stderr.
"""

from __future__ import annotations

import click

from cli.common import (
    InputError,
    emit_json,
    json_option,
    parse_date,
    parse_datetime,
    resolve_clock,
    say_skipped,
    today_options,
)
from models.domain.vocabulary import AGREEMENT_ITEMS, OUTCOMES

CANCELLED_BY = ("family", "la", "service", "icb")


@click.group()
def session() -> None:
    """Mediation meetings: book, move, cancel, record the outcome."""


def _person(value: str | None, option: str):
    from tasks.sessions.meetings import SessionError, parse_person

    if value is None:
        return None
    try:
        return parse_person(value, option)
    except SessionError as exc:
        raise InputError(str(exc)) from None


def _when(start, end) -> str:
    from tasks.sessions.meeting_view import Meeting
    from tasks.timekeeping import local_tz

    return Meeting("", start, end, None, None, None, "", local_tz()).when


@session.command("schedule")
@click.argument("ref")
@click.option("--start", required=True, help="start, ISO-8601 (local time when no offset is given)")
@click.option("--end", default=None, help="end, ISO-8601 (default: 2 hours after the start)")
@click.option("--venue", default=None, help="the neutral venue's address")
@click.option("--online", "online_url", default=None, help="an online meeting link (instead of or as well as a venue)")
@click.option("--access-notes", default=None, help="access and parking notes for the venue")
@click.option("--mediator", "mediator_email", required=True, help="the mediator's email (drs mediator add)")
@click.option("--attendee", "attendees", multiple=True, help="another attendee, NAME=EMAIL (repeatable)")
@click.option("--supporter", default=None, help="the family's one supporter, NAME=EMAIL")
@click.option("--la-officer", default=None, help="the local authority officer, NAME=EMAIL")
@click.option("--authority-to-settle", is_flag=True, help="the LA officer comes with authority to settle")
@click.option("--icb", default=None, help="the integrated care board representative, NAME=EMAIL")
@click.option("--short-notice-agreed", is_flag=True, help="the family agreed to less than 5 working days' notice")
@click.option("--now", default=None, help="ISO-8601 date-time with offset (default: now)")
def schedule(
    ref,
    start,
    end,
    venue,
    online_url,
    access_notes,
    mediator_email,
    attendees,
    supporter,
    la_officer,
    authority_to_settle,
    icb,
    short_notice_agreed,
    now,
) -> None:
    """Book a mediation meeting for case REF; invitations (.ics) go to every attendee."""
    from tasks.sessions.meetings import SessionError, schedule_session

    _, moment = resolve_clock(None, now)
    if authority_to_settle and not la_officer:
        raise InputError("--authority-to-settle needs --la-officer")
    try:
        result = schedule_session(
            ref,
            start=parse_datetime(start, "--start"),
            end=parse_datetime(end, "--end"),
            mediator_email=mediator_email,
            now=moment,
            venue=venue,
            online_url=online_url,
            access_notes=access_notes,
            attendees=[_person(a, "--attendee") for a in attendees],
            supporter=_person(supporter, "--supporter"),
            la_officer=_person(la_officer, "--la-officer"),
            authority_to_settle=authority_to_settle,
            icb=_person(icb, "--icb"),
            short_notice_agreed=short_notice_agreed,
        )
    except SessionError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"booked for {result.case_ref}: {_when(result.start, result.end)}")
    if result.short_notice:
        click.echo(f"short notice agreed: booked inside the notice period (notice was due by {result.notice_by})")
    else:
        click.echo(f"notice given in time (notice due by {result.notice_by})")
    click.echo(f"invitations queued: {result.emails_queued}")
    if result.without_email:
        click.echo(f"drs: no email address, no invitation for: {', '.join(result.without_email)}", err=True)
    for note in result.notes:
        click.echo(f"drs: note: {note}", err=True)
    click.echo(result.session_id)


@session.command("reschedule")
@click.argument("session_id", type=int)
@click.option("--start", required=True, help="new start, ISO-8601")
@click.option("--end", default=None, help="new end, ISO-8601 (default: 2 hours after the start)")
@click.option("--venue", default=None, help="a new venue address (default: unchanged)")
@click.option("--online", "online_url", default=None, help="a new online link (default: unchanged; '' removes it)")
@click.option("--access-notes", default=None, help="new access and parking notes (default: unchanged)")
@click.option("--short-notice-agreed", is_flag=True, help="the family agreed to less than 5 working days' notice")
@click.option("--now", default=None, help="ISO-8601 date-time with offset (default: now)")
def reschedule(session_id, start, end, venue, online_url, access_notes, short_notice_agreed, now) -> None:
    """Move a meeting: every attendee gets an updated invitation (same calendar entry)."""
    from tasks.sessions.meetings import SessionError, reschedule_session

    _, moment = resolve_clock(None, now)
    try:
        result = reschedule_session(
            session_id,
            start=parse_datetime(start, "--start"),
            end=parse_datetime(end, "--end"),
            now=moment,
            short_notice_agreed=short_notice_agreed,
            venue=venue,
            online_url=online_url,
            access_notes=access_notes,
        )
    except SessionError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"session {result.session_id} moved to {_when(result.start, result.end)} (version {result.sequence})")
    if result.short_notice:
        click.echo(f"short notice agreed: inside the notice period (notice was due by {result.notice_by})")
    click.echo(f"updates queued: {result.emails_queued}")


@session.command("cancel")
@click.argument("session_id", type=int)
@click.option(
    "--by", "by", type=click.Choice(CANCELLED_BY), default="service", show_default=True, help="who cancelled it"
)
@click.option("--now", default=None, help="ISO-8601 date-time with offset (default: now)")
def cancel(session_id, by, now) -> None:
    """Cancel a meeting: every attendee gets a calendar cancellation."""
    from tasks.sessions.meetings import SessionError, cancel_session

    _, moment = resolve_clock(None, now)
    try:
        result = cancel_session(session_id, now=moment, cancelled_by=by)
    except SessionError as exc:
        raise InputError(str(exc)) from None
    click.echo(
        f"session {result.session_id} for {result.case_ref} cancelled; cancellations queued: {result.emails_queued}"
    )


@session.command("outcome")
@click.argument("session_id", type=int)
@click.option("--result", "result", type=click.Choice(OUTCOMES), required=True, help="how it ended")
@click.option("--on", "on", required=True, help="the date it concluded (YYYY-MM-DD)")
@click.option(
    "--item",
    "items",
    multiple=True,
    type=click.Choice(AGREEMENT_ITEMS),
    help="agreed or partial: what was agreed (repeatable)",
)
@today_options
def outcome(session_id, result, on, items, today, now) -> None:
    """Record the outcome: mediation-concluded (and agreement-reached with --item) on the case."""
    from tasks.sessions.meetings import SessionError, record_outcome

    _, moment = resolve_clock(today, now)
    try:
        done = record_outcome(session_id, result=result, on=parse_date(on, "--on"), now=moment, items=items)
    except SessionError as exc:
        raise InputError(str(exc)) from None
    extra = f"; agreement-reached ({', '.join(items)})" if items else ""
    click.echo(f"session {done.session_id} for {done.case_ref}: {result} on {on}; mediation-concluded recorded{extra}")


@click.command()
@today_options
@json_option
@click.option(
    "--before",
    "before",
    multiple=True,
    help="reminder offsets before the meeting: 7d, 1wd, 3h (repeatable; default 7d and 1wd)",
)
def remind(today, now, as_json, before) -> None:
    """Queue the session reminders (and mediators' outcome nudges) due now."""
    from cli.common import run_flow
    from models.domain.session_reminders import ReminderPolicy
    from tasks.sessions import job

    day, moment = resolve_clock(today, now)
    try:
        ReminderPolicy.from_texts(before)
    except ValueError as exc:
        raise InputError(str(exc)) from None

    def direct(now, before) -> dict:  # no Prefect server: the same job, its steps as plain calls
        done = job.run(day, now, before=before)
        say_skipped(done.skipped)
        return done.as_dict()

    summary = run_flow("flows.reminders:session_reminders", direct=direct, now=moment, before=list(before) or None)
    if as_json:
        emit_json(summary)
        return
    kinds = ", ".join(f"{k} {v}" for k, v in summary["by_kind"].items()) or "none"
    click.echo(
        f"reminders: {summary['checked']} meetings checked, {summary['queued']} queued ({kinds}), "
        f"{summary['already_queued']} already queued, {summary['deferred']} held for 08:00"
    )
