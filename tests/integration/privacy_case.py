"""A family whose case touches every table and every kind of file (issue 17 tests; no tests here),
and a search for personal values in a whole database dump and a whole folder, decoding what a
plain grep would miss (zip-based workbooks, PDFs, base64 parts of .eml files)."""

from __future__ import annotations

import email
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path

from sqlalchemy import MetaData, select

PARENT = "Marigold Fennimore-Quist"
CHILD = "Bartholomew Fennimore-Quist"
EMAIL = "marigold.fq@families.example"
PHONE = "07700900461"
POSTCODE = "SK9 7QZ"
DOB = date(2014, 7, 19)
SUPPORTER = ("Ignatius Pemberton-Loy", "ignatius.pl@supporters.example")
NOTE = "Marigold said Bartholomew finds crowds hard"
ACCESS = "Ramp needed for Marigold at the side door"
ONLINE = "https://meet.example/room-marigold-fq"
CLAIM_TEXT = "Taxi from Wyvernhollow Lane"
REFUSAL = "Receipt shows Wyvernhollow Lane pickup for Bartholomew"
BREACH = "Marigold was in hospital in Wyvernhollow"
APPROVAL = "Approved after a call with Marigold Fennimore-Quist"
FORM_ID = "SAR-77001"
OTHER_PAYER = "wyvern.payer@families.example"

PERSONAL = [
    PARENT,
    CHILD,
    EMAIL,
    PHONE,
    POSTCODE,
    SUPPORTER[0],
    SUPPORTER[1],
    NOTE,
    ACCESS,
    ONLINE,
    CLAIM_TEXT,
    REFUSAL,
    BREACH,
    APPROVAL,
    "Marigold",
    "Bartholomew",
    "Wyvernhollow",
    "marigold.fq",
    OTHER_PAYER,
    DOB.isoformat(),
    "19 July 2014",
    "19/07/2014",
]


@dataclass
class Family:
    ref: str
    session_id: int
    home: Path


def build_family(drs, home: Path, tmp_path: Path, *, form_id: str = FORM_ID, email_addr: str = EMAIL) -> Family:
    """Referral file → intake; meeting with a supporter (invites); events with notes and a breach
    reason; certificate (PDF, email, approval note); claims from a file (one refused with a reason,
    one batched to finance and paid); every email delivered as .eml; one email left unsent; closed."""
    from models.db import Case, CaseEvent, Certificate
    from tasks.cases.casework import get_case
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    def ok(*args: str):
        r = drs(*args)
        assert r.exit_code == 0, (args, r.stderr)
        return r

    inbox = home / "inbox" / "referrals"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f"form-{form_id}.json").write_text(
        json.dumps(
            {
                "form_id": form_id,
                "submitted_at": "2024-03-04T10:00:00Z",
                "service": "mediation",
                "requester": {
                    "role": "parent",
                    "name": PARENT,
                    "email": email_addr,
                    "phone": PHONE,
                    "postcode": POSTCODE,
                },
                "child": {"name": CHILD, "date_of_birth": DOB.isoformat()},
                "local_authority": "Salford",
                "decision": {"type": "refuse_assessment", "letter_sent_on": "2024-02-28"},
                "sections": [],
                "health_issues": False,
                "social_care_issues": False,
                "wants_mediation": "yes",
                "consent_to_contact_la": True,
                "notes": NOTE,
            }
        ),
        encoding="utf-8",
    )
    intake = ok("intake", "--today", "2024-03-05", "--json").json()
    ref = intake["results"][0]["case_ref"]
    assert ref, intake
    ok("mediator", "add", "--name", "Mediator Mx Test", "--email", "mediator@service.example.org")
    out = ok(
        "session",
        "schedule",
        ref,
        "--start",
        "2024-04-10T10:00",
        "--end",
        "2024-04-10T12:00",
        "--venue",
        "Civic Centre, 1 Town Square",
        "--online",
        ONLINE,
        "--access-notes",
        ACCESS,
        "--mediator",
        "mediator@service.example.org",
        "--supporter",
        f"{SUPPORTER[0]}={SUPPORTER[1]}",
        "--now",
        "2024-03-20T09:00:00+00:00",
    ).stdout
    session_id = int(out.strip().splitlines()[-1].split()[-1])
    ok(
        "case",
        "event",
        ref,
        "information-given",
        "--on",
        "2024-03-06",
        "--note",
        NOTE,
        "--now",
        "2024-03-06T10:00:00+00:00",
    )
    ok("session", "outcome", str(session_id), "--result", "not-agreed", "--on", "2024-04-10")
    ok("certificate", "issue", ref, "--on", "2024-04-12", "--type", "after-mediation", "--today", "2024-04-12")
    with unit_of_work() as db:
        case = get_case(db, ref)
        db.add(
            CaseEvent(
                case_id=case.id,
                event="information-given",
                on=date(2024, 4, 11),
                note=None,
                detail={"breach_reason": BREACH, "session_id": session_id, "by": "family"},
                recorded_at=datetime(2024, 4, 11, 9, tzinfo=UTC),
                recorded_by="test",
            )
        )
        db.scalar(select(Certificate).where(Certificate.case_id == case.id)).approval_note = APPROVAL
        db.commit()
    claims_inbox = home / "inbox" / "claims"
    claims_inbox.mkdir(parents=True, exist_ok=True)
    (claims_inbox / f"claims-{form_id}.csv").write_text(
        "claim_id,case_ref,session_date,claimant_name,claimant_email,category,miles,amount,receipt,description\n"
        f"{form_id}-C1,{ref},2024-04-10,{PARENT},{email_addr},mileage,12,,no,{CLAIM_TEXT}\n"
        f"{form_id}-C2,{ref},2024-04-10,{PARENT},{OTHER_PAYER},other,,75.00,yes,{CLAIM_TEXT}\n",
        encoding="utf-8",
    )
    ok("claims", "import", "--today", "2024-04-15", "--json")
    ok("claims", "decide", f"{form_id}-C2", "--refuse", "--reason", REFUSAL, "--now", "2024-04-16T10:00:00+00:00")
    ok("claims", "route", "--today", "2024-04-17", "--json")
    remit = tmp_path / f"remit-{form_id}.csv"
    remit.write_text(f"claim_id,paid_on\n{form_id}-C1,2024-05-01\n", encoding="utf-8")
    ok("claims", "paid", str(remit), "--now", "2024-05-02T10:00:00+00:00")
    ok("mail", "deliver", "--json")
    ok("case", "event", ref, "closed", "--on", "2024-06-03", "--now", "2024-06-03T10:00:00+00:00")
    with unit_of_work() as db:  # something still waiting in the outbox when retention runs
        case = db.scalar(select(Case).where(Case.ref == ref))
        queue_email(
            db,
            key=f"test-unsent:{ref}",
            kind="alert-test",
            to=email_addr,
            subject=f"About {CHILD}",
            text=f"Dear {PARENT}",
            now=datetime(2024, 6, 3, 11, tzinfo=UTC),
            case_id=case.id,
            not_before=datetime(2099, 1, 1, tzinfo=UTC),
        )
        db.commit()
    return Family(ref, session_id, home)


def _texts(data: bytes, depth: int = 0) -> list[str]:
    """Every readable text inside `data`: itself, zip members, PDF text, decoded MIME parts."""
    out = [data.decode("utf-8", errors="ignore"), data.decode("latin-1", errors="ignore")]
    if depth > 3:
        return out
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for name in z.namelist():
                    out += _texts(z.read(name), depth + 1)
        except zipfile.BadZipFile:
            pass
    elif data[:4] == b"%PDF":
        try:
            from pypdf import PdfReader

            out += [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
        except Exception:
            pass
    if b"MIME-Version" in data[:4000] or b"Content-Type:" in data[:4000]:
        message = email.message_from_bytes(data, policy=policy.default)
        out.append(" ".join(f"{k}: {v}" for k, v in message.items()))
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if payload:
                out += _texts(payload, depth + 1)
            if part.get_filename():
                out.append(part.get_filename())
    return out


def database_dump(engine) -> list[tuple[str, str, str]]:
    """(table, column, text) for every value of every column of every table actually in the database."""
    meta = MetaData()
    meta.reflect(bind=engine)
    rows = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for record in conn.execute(table.select()).mappings():
                for column, value in record.items():
                    if value is None:
                        continue
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        for text in _texts(bytes(value)):
                            rows.append((table.name, column, text))
                    else:
                        rows.append(
                            (table.name, column, value if isinstance(value, str) else json.dumps(value, default=str))
                        )
    return rows


def hits_in_database(engine, values: list[str]) -> list[str]:
    found = []
    for table, column, text in database_dump(engine):
        low = text.lower()
        found += [f"{table}.{column}: {v!r}" for v in values if v.lower() in low]
    return sorted(set(found))


def hits_in_folder(folder: Path, values: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        rel = str(path.relative_to(folder))
        texts = [rel] + _texts(path.read_bytes())
        for v in values:
            if any(v.lower() in t.lower() for t in texts):
                found.append(f"{rel}: {v!r}")
    return sorted(set(found))
