"""`drs case list | show | event | contact`."""
from __future__ import annotations

import click

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
    from tasks.casework import find_local_authority
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
            {"ref": c.ref, "service": c.service, "status": c.status, "local_authority": c.local_authority.code,
             "decision_type": c.decision_type, "received_on": c.received_on.isoformat()}
            for c in db.scalars(stmt)
        ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['ref']}  {r['local_authority']}  {r['service']:<9}  {r['status']:<20}  {r['received_on']}")


@case.command("show")
@click.argument("ref")
@today_options
@json_option
@click.option("--redact", is_flag=True, help="leave out personal details")
def show(ref: str, today: str | None, now: str | None, as_json: bool, redact: bool) -> None:
    """One case, with its clocks."""
    from tasks.case_view import case_document
    from tasks.casework import CaseworkError, get_case
    from tasks.db import unit_of_work

    day, _ = resolve_clock(today, now)
    with unit_of_work() as db:
        try:
            doc = case_document(db, get_case(db, ref), day, redact=redact or not as_json)
        except CaseworkError as exc:
            raise InputError(str(exc)) from None
    if as_json:
        emit_json(doc)
        return
    click.echo(f"{doc['ref']}  {doc['service']}  {doc['status']}  LA {doc['local_authority']}")
    click.echo(f"decision: {doc['decision']['type']} sent {doc['decision']['letter_sent_on']}; received {doc['received_on']}")
    for e in doc["events"]:
        click.echo(f"  {e['on']}  {e['event']}")
    for name, c in doc["clocks"].items():
        click.echo(f"  {name:<32} due {c['due']}  target {c['target']}  {c['state']:<14} {c['owner']:<8} {c['level']}")
    for p in doc.get("contact_problems", ()):  # issue 15
        click.echo(f"  contact problem: {p['recipient_role']} — {p['reason']} since {p['since'][:10]}"
                   f"{' (statutory)' if p['statutory'] else ''}")


@case.command("event")
@click.argument("ref")
@click.argument("event", type=click.Choice(EVENTS), metavar="EVENT")
@click.option("--on", "on", required=True, help="the date it happened (YYYY-MM-DD)")
@click.option("--note", default=None, help="a short note (no personal details)")
@click.option("--health", is_flag=True, help="la-received-request: the issues include health care")
@click.option("--type", "cert_type", type=click.Choice(CERTIFICATE_TYPES), help="certificate-issued: its type (default: from the latest declined/withdrawn/cannot-arrange/concluded event)")
@click.option("--item", "items", multiple=True, type=click.Choice(AGREEMENT_ITEMS), help="agreement-reached: what was agreed; agreement-step-done: the item whose next step the LA did (repeatable)")
@today_options
def event(ref: str, event: str, on: str, note: str | None, health: bool, cert_type: str | None,
          items: tuple[str, ...], today: str | None, now: str | None) -> None:
    """Record what happened on a case; its clocks are recomputed."""
    from tasks.casework import CaseworkError, get_case, record_event
    from tasks.db import unit_of_work

    day, moment = resolve_clock(today, now)
    on_date = parse_date(on, "--on")
    with unit_of_work() as db:
        try:
            case_ = get_case(db, ref, for_update=True)
            record_event(db, case_, event, on_date, now=moment, today=day,
                         recorded_by="cli:case-event", note=note, health=health, cert_type=cert_type, items=items)
        except CaseworkError as exc:
            raise InputError(str(exc)) from None
        db.commit()
        click.echo(f"{case_.ref}: {event} on {on_date.isoformat()} recorded; status {case_.status}", err=True)


@case.command("contact")
@click.argument("ref")
@click.option("--email", "email", default=None, help="the corrected address (re-sends the statutory emails that bounced)")
@click.option("--role", default="family", show_default=True,
              type=click.Choice(("family", "supporter", "icb", "mediator", "other")), help="whose address")
@click.option("--reached", is_flag=True, help="the family was told another way: close the contact problem")
@click.option("--by", "by", type=click.Choice(("phone", "letter")), help="--reached: how they were told")
@click.option("--on", "on", default=None, help="--reached: the date they were told (YYYY-MM-DD)")
@click.option("--note", default=None, help="--reached: a short note (no personal details)")
@today_options
@json_option
def contact(ref: str, email: str | None, role: str, reached: bool, by: str | None, on: str | None,
            note: str | None, today: str | None, now: str | None, as_json: bool) -> None:
    """After a bounce: correct the address (--email NEW) or record the family was reached (--reached)."""
    from tasks.casework import CaseworkError
    from tasks.contact_fix import correct_address, record_reached

    if bool(email) == reached:
        raise InputError("give either --email NEW or --reached --by phone|letter --on DATE")
    day, moment = resolve_clock(today, now)
    try:
        if email:
            result = correct_address(ref, email, role=role, now=moment, actor="cli:case-contact")
        else:
            if not by or not on:
                raise InputError("--reached needs --by phone|letter and --on DATE")
            result = record_reached(ref, by=by, on=parse_date(on, "--on"), note=note, role=role,
                                    now=moment, today=day, actor="cli:case-contact")
    except CaseworkError as exc:
        raise InputError(str(exc)) from None
    doc = result.as_dict()
    if as_json:
        emit_json(doc)
        return
    if email:
        click.echo(f"{doc['case_ref']}: {role} address corrected; {doc['resolved']} contact problem(s) closed, "
                   f"{len(doc['resent'])} statutory email(s) sent again, {doc['readdressed']} waiting email(s) re-addressed",
                   err=True)
    else:
        click.echo(f"{doc['case_ref']}: reached by {by}; {doc['resolved']} contact problem(s) closed", err=True)
