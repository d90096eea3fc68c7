"""The "Today" screen: in one markdown artifact (key `today`), what the team needs to do today.

Sections: clocks whose working-day target is today, clocks the service, the mediator or the LA
missed in the last 30 days (or left open past their target; a family's own deadlines are not the
team's task),
certificates awaiting approval, held expense claims, emails that failed, and meetings today;
first, the families to phone because an email to them bounced, and LA addresses that bounce.
References only — case references, clock names, ids, dates and times; never names, email
addresses or free text. Each section lists at most `LIMIT` lines and says how many more there are.

`build_today` reads the database; `render_today` turns it into markdown; `flows.today` publishes it
as the artifact (the watchdog hourly, the deadline monitor and the bounce check after each run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from models.db import Case, Certificate, Clock, ExpenseClaim, MediationSession, OutboxEmail
from models.domain.clock_labels import clock_title
from tasks.db import unit_of_work
from tasks.settings import get_settings

LIMIT = 15
#: Missed clocks stay on the screen this many days after their target.
MISSED_DAYS = 30
ARTIFACT_KEY = "today"


@dataclass
class Section:
    title: str
    empty: str
    lines: list[str] = field(default_factory=list)
    total: int = 0


@dataclass
class TodayView:
    today: date
    generated_at: datetime
    sections: list[Section]

    def counts(self) -> dict[str, int]:
        return {s.title: s.total for s in self.sections}


def _section(title: str, empty: str, lines: list[str], total: int) -> Section:
    return Section(title, empty, lines[:LIMIT], total)


def _counted(db, stmt, order_by) -> tuple[list, int]:
    """The first `LIMIT` rows of `stmt` in `order_by` order, and how many there are in all — one
    query: the count rides on each row (`count(*) over ()`), so the rows are found once, not twice."""
    rows = db.execute(stmt.add_columns(func.count().over().label("_total")).order_by(*order_by).limit(LIMIT)).all()
    return rows, rows[0]._total if rows else 0


def _clock_rows(db, *conditions) -> tuple[list, int]:
    stmt = (
        select(Case.ref, Clock.name, Clock.due, Clock.target, Clock.owner)
        .join(Case, Case.id == Clock.case_id)
        .where(*conditions)
    )
    return _counted(db, stmt, (Clock.target, Case.ref))


def _clock_sections(db, today: date) -> list[Section]:
    due, due_total = _clock_rows(db, Clock.state == "open", Clock.target == today)
    missed, missed_total = _clock_rows(
        db,
        Case.status != "closed",
        Clock.owner != "family",  # a family's own deadline is not the team's task
        ((Clock.state == "missed") & (Clock.target >= today - timedelta(days=MISSED_DAYS)))
        | ((Clock.state == "open") & (Clock.target < today)),
    )
    return [
        _section(
            "Clocks due today",
            "No clock has its target today.",
            [f"{r.ref} — {clock_title(r.name)} (due {r.due:%d %b}, owner: {r.owner})" for r in due],
            due_total,
        ),
        _section(
            "Clocks missed or overdue",
            "Nothing missed.",
            [f"{r.ref} — {clock_title(r.name)} (target was {r.target:%d %b}, owner: {r.owner})" for r in missed],
            missed_total,
        ),
    ]


def _waiting_sections(db) -> list[Section]:
    """Certificates awaiting approval, claims held or queried, emails that failed."""
    certs, cert_total = _counted(
        db,
        select(Case.ref, Certificate.number, Certificate.type, Certificate.trigger_on)
        .join(Case, Case.id == Certificate.case_id)
        .where(Certificate.status == "awaiting_approval"),
        (Certificate.trigger_on,),
    )
    claims, claim_total = _counted(
        db,
        select(Case.ref, ExpenseClaim.claim_id, ExpenseClaim.category, ExpenseClaim.amount_pence)
        .join(Case, Case.id == ExpenseClaim.case_id)
        .where(ExpenseClaim.status.in_(("held", "query"))),
        (ExpenseClaim.session_date,),
    )
    mails, mail_total = _counted(
        db,
        select(
            OutboxEmail.id,
            OutboxEmail.kind,
            OutboxEmail.attempts,
            Case.ref,
            OutboxEmail.smtp_code,
            OutboxEmail.enhanced_status,
        )
        .outerjoin(Case, Case.id == OutboxEmail.case_id)
        .where(OutboxEmail.status == "failed"),
        (OutboxEmail.id.desc(),),
    )
    return [
        _section(
            "Certificates awaiting approval",
            "No certificate is waiting for approval.",
            [f"{r.ref} — certificate {r.number} ({r.type}, trigger {r.trigger_on:%d %b})" for r in certs],
            cert_total,
        ),
        _section(
            "Expense claims held or queried",
            "No claim is held.",
            [f"{r.ref} — claim {r.claim_id} ({r.category}, £{r.amount_pence / 100:.2f})" for r in claims],
            claim_total,
        ),
        _section("Emails that failed", "No email has failed.", [_failed_mail_line(r) for r in mails], mail_total),
    ]


def _meetings_section(db, today: date, tz: ZoneInfo) -> Section:
    start = datetime.combine(today, time(0), tzinfo=tz)
    meetings, total = _counted(
        db,
        select(
            MediationSession.id,
            MediationSession.start_at,
            MediationSession.end_at,
            Case.ref,
            MediationSession.online_url,
        )
        .join(Case, Case.id == MediationSession.case_id)
        .where(
            MediationSession.status == "scheduled",
            MediationSession.start_at >= start,
            MediationSession.start_at < start + timedelta(days=1),
        ),
        (MediationSession.start_at,),
    )

    def local(t: datetime) -> str:
        return t.astimezone(tz).strftime("%H:%M")

    return _section(
        "Meetings today",
        "No mediation meeting today.",
        [
            f"{local(r.start_at)}–{local(r.end_at)} {r.ref} (meeting #{r.id}{', online' if r.online_url else ''})"
            for r in meetings
        ],
        total,
    )


def _contact_sections(db, tz: ZoneInfo) -> list[Section]:
    """Issue 15: the families to phone because an email to them bounced, and LA addresses that bounce."""
    from tasks.bounces.problems import la_address_lines, phone_these_families

    phone, phone_total = phone_these_families(db, LIMIT)
    la_lines = la_address_lines(db)
    return [
        _section(
            "Phone these families",
            "Every email was delivered (no bounce to follow up).",
            [p.text(tz) for p in phone],
            phone_total,
        ),
        _section("LA addresses that bounce", "No LA address bounced.", la_lines, len(la_lines)),
    ]


def build_today(today: date, now: datetime) -> TodayView:
    """What is due, missed or waiting on `today` (a local date), read from the database."""
    tz = ZoneInfo(get_settings().timezone)
    with unit_of_work() as db:
        sections = [
            *_contact_sections(db, tz),
            *_clock_sections(db, today),
            *_waiting_sections(db),
            _meetings_section(db, today, tz),
        ]
    return TodayView(today, now, sections)


def _failed_mail_line(r) -> str:
    """`REF — outbox #id (kind, refused 550 5.1.1) — retry: drs mail retry id`: the case first,
    never the address."""
    why = (
        f"refused {r.smtp_code}{' ' + r.enhanced_status if r.enhanced_status else ''}"
        if r.smtp_code and r.smtp_code >= 500
        else f"{r.attempts} attempts"
    )
    return f"{r.ref or 'no case'} — outbox #{r.id} ({r.kind}, {why}) — retry: `drs mail retry {r.id}`"


def render_today(view: TodayView) -> str:
    """The markdown of the `today` artifact: one short section per kind of work."""
    tz = ZoneInfo(get_settings().timezone)
    out = [
        f"# Today — {view.today:%A %d %B %Y}",
        f"_Updated {view.generated_at.astimezone(tz):%H:%M}. Open a case with `drs case show REF`._",
        "",
    ]
    for section in view.sections:
        out.append(f"## {section.title} ({section.total})")
        if not section.total:
            out.append(section.empty)
        else:
            out.extend(f"- {line}" for line in section.lines)
            if section.total > len(section.lines):
                out.append(f"- … and {section.total - len(section.lines)} more")
        out.append("")
    return "\n".join(out)


def today_log_line(counts: dict[str, int], ui_url: str | None) -> str:
    """The watchdog's one log line about the screen: the count of each section and the screen's
    address. A watchdog run is one click from the dashboard's home page (its bar in the Flow Runs
    chart); its Logs tab, the page's default, shows this line and both UIs make the address a link.
    Prefect 3.9's home page holds nothing configurable and neither UI has an Artifacts menu."""
    summary = ", ".join(f"{title.lower()} {total}" for title, total in counts.items())
    where = f"{ui_url.rstrip('/')}/artifacts/key/{ARTIFACT_KEY}" if ui_url else f"the artifact `{ARTIFACT_KEY}`"
    return f"today's screen: {where} — {summary}"
