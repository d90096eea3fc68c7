"""Referral records and files for the intake tests (fictional people, reserved domains)."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

CSV_COLUMNS = [
    "form_id",
    "submitted_at",
    "service",
    "requester_role",
    "requester_name",
    "requester_email",
    "requester_phone",
    "requester_postcode",
    "child_name",
    "child_date_of_birth",
    "local_authority",
    "decision_type",
    "decision_letter_sent_on",
    "sections",
    "health_issues",
    "social_care_issues",
    "wants_mediation",
    "consent_to_contact_la",
    "notes",
]
CHILD_NAME = "Zebedee Quillfeather"
PARENT_NAME = "Ottoline Quillfeather"


def referral(form_id: str = "TT-1001", **changes) -> dict:
    """A valid nested JSON referral (contract shape); `changes` override flat-named fields."""
    flat = {
        "form_id": form_id,
        "submitted_at": "2026-11-20T14:03:00Z",
        "service": "mediation",
        "requester_role": "parent",
        "requester_name": PARENT_NAME,
        "requester_email": f"family.{form_id.lower()}@families.example",
        "requester_phone": "01610000000",
        "requester_postcode": "M1 1AA",
        "child_name": CHILD_NAME,
        "child_date_of_birth": "2015-03-02",
        "local_authority": "Salford",
        "decision_type": "refuse_assessment",
        "decision_letter_sent_on": "2026-11-12",
        "sections": [],
        "health_issues": False,
        "social_care_issues": False,
        "wants_mediation": "undecided",
        "consent_to_contact_la": True,
        "notes": "",
    }
    flat.update(changes)
    return {
        "form_id": flat["form_id"],
        "submitted_at": flat["submitted_at"],
        "service": flat["service"],
        "requester": {
            "role": flat["requester_role"],
            "name": flat["requester_name"],
            "email": flat["requester_email"],
            "phone": flat["requester_phone"],
            "postcode": flat["requester_postcode"],
        },
        "child": {"name": flat["child_name"], "date_of_birth": flat["child_date_of_birth"]},
        "local_authority": flat["local_authority"],
        "decision": {"type": flat["decision_type"], "letter_sent_on": flat["decision_letter_sent_on"]},
        "sections": flat["sections"],
        "health_issues": flat["health_issues"],
        "social_care_issues": flat["social_care_issues"],
        "wants_mediation": flat["wants_mediation"],
        "consent_to_contact_la": flat["consent_to_contact_la"],
        "notes": flat["notes"],
    }


def flat_row(record: dict) -> dict:
    """The CSV/XLSX row for a nested referral (`sections` as `B;F;I`, booleans as yes/no)."""
    row = {
        "form_id": record["form_id"],
        "submitted_at": record["submitted_at"],
        "service": record["service"],
        **{f"requester_{k}": v for k, v in record["requester"].items()},
        "child_name": record["child"]["name"],
        "child_date_of_birth": record["child"]["date_of_birth"],
        "local_authority": record["local_authority"],
        "decision_type": record["decision"]["type"],
        "decision_letter_sent_on": record["decision"]["letter_sent_on"],
        "sections": ";".join(record["sections"]),
        "wants_mediation": record["wants_mediation"],
        "notes": record["notes"],
    }
    for key in ("health_issues", "social_care_issues", "consent_to_contact_la"):
        value = record[key]
        row[key] = ("yes" if value else "no") if isinstance(value, bool) else value
    return row


def settle(path: Path) -> Path:
    """Make a file look finished (modified a minute ago), as the inbox's settle check wants."""
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def write_json(path: Path, records: list[dict] | dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return settle(path)


def write_csv(path: Path, records: list[dict], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, delimiter=delimiter)
        writer.writeheader()
        for record in records:
            writer.writerow(flat_row(record))
    return settle(path)


def write_xlsx(path: Path, records: list[dict], *, real_dates: bool = True) -> Path:
    """An XLSX as Excel would save it: dates as real date cells when `real_dates`."""
    from datetime import date, datetime

    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Referrals"
    sheet.append(CSV_COLUMNS)
    for record in records:
        row = flat_row(record)
        if real_dates:
            row["child_date_of_birth"] = date.fromisoformat(row["child_date_of_birth"])
            row["decision_letter_sent_on"] = date.fromisoformat(row["decision_letter_sent_on"])
            row["submitted_at"] = datetime.fromisoformat(row["submitted_at"].replace("Z", "")).replace(tzinfo=None)
        sheet.append([row[c] for c in CSV_COLUMNS])
    wb.save(path)
    return settle(path)
