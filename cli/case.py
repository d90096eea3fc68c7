"""`drs case list | show | event | contact`; `hold | release | export | erase` are in `cli/case_privacy.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from cli.actions import run_action
from cli.case_privacy import erase, export, hold, release
from cli.common import InputError, emit_json, json_option, parse_date, resolve_clock, today_options
from models.domain.vocabulary import AGREEMENT_ITEMS, CASE_STATUSES, CERTIFICATE_TYPES, EVENTS


@click.group()
def case() -> None:
    """Cases: list, show, record what happened."""


@case.command("list")
@click.option("--status", type=click.Choice(CASE_STATUSES), help="only cases in this status")
@click.option("--la", "la_code", help="only this local authority (ONS code or name)")
@json_option
def list_(status: str | None, la_code: str | None, as_json: bool) -> None:
    """List cases (references, LA, status; no personal data)."""
    from sqlalchemy import select

    from models.db import Case
    from tasks.cases.casework import find_local_authority
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        stmt = select(Case).order_by(Case.ref)
        if status:
            stmt = stmt.where(Case.status == status)
        if la_code:
            la_ = find_local_authority(db, la_code)
            if la_ is None:
                raise InputError(f"unknown local authority {la_code!r}")
            stmt = stmt.where(Case.la_id == la_.id)
        rows = [
            {
                "ref": c.ref,
                "service": c.service,
                "status": c.status,
                "local_authority": c.local_authority.code,
                "decision_type": c.decision_type,
                "received_on": c.received_on.isoformat(),
            }
            for c in db.scalars(stmt)
        ]
    if as_json:
        emit_json(rows)
        return
    click.echo(f"{'ref':<14}  {'LA':<9}  {'service':<9}  {'status':<20}  received")
    for r in rows:
        click.echo(f"{r['ref']}  {r['local_authority']}  {r['service']:<9}  {r['status']:<20}  {r['received_on']}")


@case.command("show")
@click.argument("ref")
@today_options
@json_option
@click.option("--redact", is_flag=True, help="leave out personal details")
def show(ref: str, today: str | None, now: str | None, as_json: bool, redact: bool) -> None:
    """One case, with its clocks."""
    from tasks.cases.casework import CaseworkError, get_case
    from tasks.cases.view import case_document
    from tasks.db import unit_of_work

    day, moment = resolve_clock(today, now)
    with unit_of_work() as db:
        try:
            case_ = get_case(db, ref)
            doc = case_document(db, case_, day, redact=redact or not as_json)
        except CaseworkError as exc:
            raise InputError(str(exc)) from None
        if as_json and not redact:  # personal data shown: audited (issue 17)
            from tasks.privacy.audit_trail import log_read

            log_read(db, "case-show", case_.id, moment, {"ref": case_.ref}, actor="cli:case-show")
            db.commit()
    if as_json:
        emit_json(doc)
        return
    click.echo(f"{doc['ref']}  {doc['service']}  {doc['status']}  LA {doc['local_authority']}")
    click.echo(
        f"decision: {doc['decision']['type']} sent {doc['decision']['letter_sent_on']}; received {doc['received_on']}"
    )
    if doc.get("legal_hold"):
        hold = doc["legal_hold"]
        click.echo(
            f"LEGAL HOLD since {(hold['since'] or '')[:16].replace('T', ' ')} UTC by {hold['by']}: {hold['reason']}"
        )
    for e in doc["events"]:
        click.echo(f"  {e['on']}  {e['event']}")
    from models.domain.clock_labels import clock_title, state_words

    for name, c in doc["clocks"].items():
        met_on = date.fromisoformat(c["met_on"]) if c.get("met_on") else None
        click.echo(f"  {clock_title(name)}")
        click.echo(
            f"      due {c['due']}  target {c['target']}  {state_words(c['state'], met_on, c.get('late_wd'))}"
            f"  owner {c['owner']}  {c['level']}"
        )
    for p in doc.get("contact_problems", ()):  # issue 15
        click.echo(
            f"  contact problem: {p['recipient_role']} — {p['reason']} since {p['since'][:10]}"
            f"{' (statutory)' if p['statutory'] else ''}"
        )


@case.command("event")
@click.argument("ref")
@click.argument("event", type=click.Choice(EVENTS), metavar="EVENT")
@click.option("--on", "on", required=True, help="the date it happened (YYYY-MM-DD)")
@click.option("--note", default=None, help="a short note (no personal details)")
@click.option("--health", is_flag=True, help="la-received-request: the issues include health care")
@click.option(
    "--type",
    "cert_type",
    type=click.Choice(CERTIFICATE_TYPES),
    help="certificate-issued: its type (default: from the latest declined/withdrawn/cannot-arrange/concluded event)",
)
@click.option(
    "--item",
    "items",
    multiple=True,
    type=click.Choice(AGREEMENT_ITEMS),
    help="agreement-reached: what was agreed; agreement-step-done: the item whose next step the LA did (repeatable)",
)
@today_options
def event(
    ref: str,
    event: str,
    on: str,
    note: str | None,
    health: bool,
    cert_type: str | None,
    items: tuple[str, ...],
    today: str | None,
    now: str | None,
) -> None:
    """Record what happened on a case; its clocks are recomputed."""
    from tasks.cases.casework import record_case_event

    def action(day: date, moment: datetime) -> Any:
        on_date = parse_date(on, "--on")
        assert on_date is not None  # --on is required
        return record_case_event(
            ref,
            event,
            on_date,
            today=day,
            now=moment,
            recorded_by="cli:case-event",
            note=note,
            health=health,
            cert_type=cert_type,
            items=items,
        )

    def show(doc: dict[str, Any]) -> None:
        click.echo(f"{doc['case_ref']}: {event} on {doc['on']} recorded; status {doc['status']}", err=True)

    run_action(action, today=today, now=now, as_json=False, show=show)


# --- data protection (issue 17): legal hold, subject access export, erasure --------------------------


for _command in (hold, release, export, erase):
    case.add_command(_command)


@case.command("contact")
@click.argument("ref")
@click.option(
    "--email", "email", default=None, help="the corrected address (re-sends the statutory emails that bounced)"
)
@click.option(
    "--role",
    default="family",
    show_default=True,
    type=click.Choice(("family", "supporter", "icb", "mediator", "other")),
    help="whose address",
)
@click.option("--reached", is_flag=True, help="the family was told another way: close the contact problem")
@click.option("--by", "by", type=click.Choice(("phone", "letter")), help="--reached: how they were told")
@click.option("--on", "on", default=None, help="--reached: the date they were told (YYYY-MM-DD)")
@click.option("--note", default=None, help="--reached: a short note (no personal details)")
@today_options
@json_option
def contact(
    ref: str,
    email: str | None,
    role: str,
    reached: bool,
    by: str | None,
    on: str | None,
    note: str | None,
    today: str | None,
    now: str | None,
    as_json: bool,
) -> None:
    """After a bounce: correct the address (--email NEW) or record the family was reached (--reached)."""
    from tasks.bounces.contact_fix import correct_address, record_reached

    if bool(email) == reached:
        raise InputError("give either --email NEW or --reached --by phone|letter --on DATE")

    def action(day: date, moment: datetime) -> Any:
        if email:
            return correct_address(ref, email, role=role, now=moment, actor="cli:case-contact")
        if not by or not on:
            raise InputError("--reached needs --by phone|letter and --on DATE")
        on_date = parse_date(on, "--on")
        assert on_date is not None  # checked just above
        return record_reached(
            ref, by=by, on=on_date, note=note, role=role, now=moment, today=day, actor="cli:case-contact"
        )

    def show(doc: dict[str, Any]) -> None:
        if email:
            click.echo(
                f"{doc['case_ref']}: {role} address corrected; {doc['resolved']} contact problem(s) closed, "
                f"{len(doc['resent'])} statutory email(s) sent again, {doc['readdressed']} waiting email(s) "
                "re-addressed",
                err=True,
            )
        else:
            click.echo(f"{doc['case_ref']}: reached by {by}; {doc['resolved']} contact problem(s) closed", err=True)

    run_action(action, today=today, now=now, as_json=as_json, show=show)
