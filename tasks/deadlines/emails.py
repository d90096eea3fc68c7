"""The emails of the deadline monitor: alerts (team, LA SEN team), the family's appeal reminders,
the team's daily digest, and the certificate email to the family.

Each function returns `(subject, text, html)`. Subjects carry case references and dates only;
the team's alerts and digest carry references only. Bodies use `email_layout.render_email`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from models.domain.alerts import Alert
from models.domain.clock_labels import clock_label, clock_title  # noqa: F401 (clock_label: re-exported)
from models.domain.digest import DigestRow
from tasks.mail.layout import long_date, render_email

KIND_WORDS = {"due-soon": "due soon", "due-today": "due today", "missed": "missed"}


@lru_cache(maxsize=1024)
def _short(d: date) -> str:
    """ "Tue 1 Dec 2026" (remembered: the digest writes the same hundred dates tens of thousands of times)."""
    return f"{d:%a} {d.day} {d:%b %Y}"


def _when(alert: Alert) -> str:
    if alert.kind == "missed":
        return f"The target date was {long_date(alert.target)}; we have no record that it was met."
    if alert.kind == "due-today":
        return f"The target date is today, {long_date(alert.target)}."
    days = alert.working_days_left
    return f"The target date is {long_date(alert.target)} ({days} working day{'s' if days != 1 else ''} from today)."


def team_alert(alert: Alert, la_emailed: bool = True) -> tuple[str, str, str]:
    """To the team: references and dates only. `la_emailed`: the LA's SEN team got its copy."""
    subject = f"[{alert.case_ref}] {clock_title(alert.clock)} {KIND_WORDS[alert.kind]} ({_short(alert.target)})"
    facts = [
        f"Case: {alert.case_ref} (LA {alert.la_code})",
        f"Clock: {clock_title(alert.clock)}",
        f"Legal date: {long_date(alert.due)}; target: {long_date(alert.target)}",
        f"Owner: {alert.owner}; rule level: {alert.level or 'n/a'}",
    ]
    if alert.note:
        facts.append(f"Note: {alert.note}")
    paras: list = [_when(alert), facts]
    if alert.owner in ("la", "icb") and la_emailed:
        paras.append("The local authority's SEN team has been sent the same alert. Follow it up with them if needed.")
    elif alert.owner in ("la", "icb"):
        paras.append(
            "The local authority has no SEN team email in the register (or the case has no LA details): "
            "tell them by hand."
        )
    elif alert.clock == "certificate_due":
        paras.append(f"Issue it with: drs certificate issue {alert.case_ref} --on <date of issue>")
    text, html = render_email(f"Deadline {KIND_WORDS[alert.kind]}: {alert.case_ref}", paras, greeting=None, footer=None)
    return subject, text, html


@dataclass(frozen=True)
class LaContext:
    la_name: str
    child_name: str | None = None  # only when the family consented to us contacting the LA
    letter_sent_on: date | None = None


def la_alert(alert: Alert, ctx: LaContext) -> tuple[str, str, str]:
    """To the LA's SEN team: what is due from them, with enough to find the case."""
    subject = f"SEND mediation deadline {KIND_WORDS[alert.kind]}: our ref {alert.case_ref} ({_short(alert.target)})"
    facts = [
        f"Our reference: {alert.case_ref}",
        f"What: {clock_title(alert.clock)}",
        f"Legal date: {long_date(alert.due)}",
    ]
    if ctx.child_name:
        facts.append(f"Child or young person: {ctx.child_name}")
    if ctx.letter_sent_on:
        facts.append(f"Your decision letter: {long_date(ctx.letter_sent_on)}")
    paras: list = [
        f"This is a reminder from the mediation service about a statutory deadline that is for {ctx.la_name} to meet.",
        _when(alert),
        facts,
        "If this has already been done, please reply with the date so that we can update our records.",
    ]
    text, html = render_email("A SEND mediation deadline for your team", paras)
    return subject, text, html


def family_reminder(alert: Alert, requester_name: str | None) -> tuple[str, str, str]:
    """To the family: a plain reminder of their own appeal deadline."""
    subject = f"Reminder: your appeal deadline is {long_date(alert.due)}"
    when = "in three working days" if alert.kind == "appeal-3-wd" else "in about two weeks"
    if alert.due == alert.target and alert.working_days_left <= 0:
        when = "today"
    paras: list = [
        f"This is a reminder that the last day to appeal to the First-tier Tribunal (Special Educational Needs "
        f"and Disability) about the local authority's decision is {long_date(alert.due)} — {when}.",
        "Send your mediation certificate with your appeal. You can appeal online on GOV.UK (search for "
        '"Appeal an EHC plan decision", form SEND35 or SEND40 online).',
        "If you have already appealed, or decided not to, please tell us and we will stop these reminders.",
        f"Our reference: {alert.case_ref}",
    ]
    greeting = f"Dear {requester_name}," if requester_name else "Hello,"
    text, html = render_email(
        "Your appeal deadline", paras, greeting=greeting, key_dates=[("Appeal deadline", long_date(alert.due))]
    )
    return subject, text, html


def digest(
    today: date, groups: Sequence[tuple[str, str, Sequence[DigestRow]]], extra: Sequence[str] = ()
) -> tuple[str, str, str]:
    """The team's daily digest: `groups` is (la_code, la_name, rows). References only."""
    due = sum(1 for _, _, rows in groups for r in rows if r.state == "open")
    missed = sum(1 for _, _, rows in groups for r in rows if r.state == "missed")
    subject = f"Deadline digest {today.isoformat()}: {due} due in the next 5 working days, {missed} missed"
    paras: list = []
    if not groups:
        paras.append("Nothing is due in the next 5 working days and nothing is missed.")
    for code, name, rows in groups:
        paras.append(f"{name} ({code})")
        paras.append(
            [
                f"{r.case_ref} — {clock_title(r.clock)}: {'MISSED, target was' if r.state == 'missed' else 'target'} {_short(r.target)}"
                f"{'' if r.state == 'missed' else f' ({r.working_days_left} WD)'}, owner {r.owner}"
                for r in rows
            ]
        )
    paras.extend(extra)
    text, html = render_email(f"Deadlines for {long_date(today)}", paras, greeting=None, footer=None)
    return subject, text, html


def certificate_email(
    *,
    case_ref: str,
    number: str,
    title: str,
    requester_name: str | None,
    appeal_meaning: str,
    appeal_deadline: date | None,
) -> tuple[str, str, str]:
    """To the family, with the PDF attached."""
    subject = f"Your mediation certificate {number} (our ref {case_ref})"
    paras: list = [
        f"Your mediation certificate is attached ({title.split(': ', 1)[-1]}).",
        appeal_meaning,
        "Keep this email and the certificate safe. If anything on the certificate is wrong, reply to this "
        "email and we will correct it.",
    ]
    key_dates = [("Certificate number", number)]
    if appeal_deadline:
        key_dates.append(("Appeal deadline", long_date(appeal_deadline)))
    greeting = f"Dear {requester_name}," if requester_name else "Hello,"
    text, html = render_email("Your mediation certificate", paras, greeting=greeting, key_dates=key_dates)
    return subject, text, html
