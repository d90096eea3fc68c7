"""Hostile text at the door (issue #12 §4): control characters, NUL, huge strings, nested JSON,
right-to-left marks — through the referral validator, referral intake and `drs case event --note`.
Every input is accepted or rejected with a reason; nothing crashes; no NUL reaches the database.

Small by default (part of `make test`); `DRS_TORTURE=large` runs many more examples.
"""

from __future__ import annotations

import json
import os
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models.domain.fields import NAME_MAX, NOTE_MAX, text_problem
from models.domain.referrals import FIELDS, flatten, validate_referral
from tests.intake_samples import referral

LARGE = os.environ.get("DRS_TORTURE") == "large"
LONDON = ZoneInfo("Europe/London")
MARKS = ["\u200f", "\u200e", "\u202e", "\u2066", "\u2069", "\ufeff", "\u200b", "\u061c"]
NASTY = ["\x00", "\r", "\n", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x08", "\ud800"]

hostile_chars = st.one_of(st.characters(), st.sampled_from(MARKS + NASTY))
hostile_text = st.one_of(
    st.text(hostile_chars, max_size=60),
    st.builds(
        lambda s, n: s * n,
        st.text(hostile_chars, min_size=1, max_size=4),
        st.sampled_from([NAME_MAX, NAME_MAX + 1, NOTE_MAX // 3, NOTE_MAX + 1] + ([250_000] if LARGE else [])),
    ),
    st.builds(lambda a, m, b: a + m + b, st.text(max_size=20), st.sampled_from(MARKS + NASTY), st.text(max_size=20)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20 if not LARGE else 200,
)
hostile_value = st.one_of(hostile_text, json_values)


def _examples(small: int, large: int):
    return settings(
        max_examples=large if LARGE else small,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@_examples(300, 5000)
@given(changes=st.dictionaries(st.sampled_from(FIELDS), hostile_value, min_size=1, max_size=5))
def test_the_referral_validator_accepts_or_gives_reasons_never_crashes(changes):
    record = flatten(referral("TT-9"))
    record.update(changes)
    form, problems = validate_referral(
        record, today=date(2026, 11, 23), tz=LONDON, la_known=lambda text: text.strip().lower() == "salford"
    )
    if form is None:
        assert problems and all(p.reason and p.text for p in problems)
        return
    assert problems == []
    for name in ("form_id", "requester_name", "requester_email", "child_name", "local_authority"):
        value = getattr(form, name)
        assert isinstance(value, str) and text_problem(value, limit=NAME_MAX * 10) is None, name
    assert form.notes is None or text_problem(form.notes, limit=NOTE_MAX, single_line=False) is None


def _no_nul_in_the_database() -> None:
    from models.db import Case, CaseEvent
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        for case in db.scalars(select(Case)):
            for column in ("requester_name", "requester_email", "child_name", "notes", "requester_phone"):
                assert "\x00" not in (getattr(case, column) or ""), column
        for note in db.scalars(select(CaseEvent.note)):
            assert "\x00" not in (note or "")


@pytest.fixture
def the_case(las):
    from tests.monitor_cases import make_case

    return make_case("E08000006", received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12))


@_examples(25, 400)
@given(note=hostile_text)
def test_case_event_note_is_stored_as_given_or_refused_with_one_line(drs, the_case, note):
    from models.db import CaseEvent
    from tasks.db import unit_of_work

    r = drs(
        "case", "event", the_case, "information-given", "--on", "2026-11-23", "--today", "2026-11-23", "--note", note
    )
    assert r.exit_code in (0, 2), (r.exit_code, r.stderr)
    if r.exit_code == 2:
        assert r.stderr.startswith("drs: error: note ") and len(r.stderr.strip().splitlines()) == 1
    else:
        with unit_of_work() as db:
            stored = db.scalar(select(CaseEvent.note).order_by(CaseEvent.id.desc()).limit(1))
        assert stored == (note.strip() or None)
    _no_nul_in_the_database()


@_examples(5, 60)
@given(
    batch=st.lists(
        st.dictionaries(st.sampled_from(FIELDS), hostile_value, min_size=1, max_size=4), min_size=1, max_size=8
    )
)
def test_hostile_referral_records_are_imported_or_rejected_and_the_counts_add_up(drs, las, batch, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    records = []
    for n, changes in enumerate(batch):
        record = flatten(referral(f"TT-H{n}"))
        record.update(changes)
        records.append(record)
    path = folder / "hostile.json"
    try:
        path.write_text(json.dumps(records, ensure_ascii=True), encoding="utf-8")
    except (ValueError, UnicodeEncodeError):  # not representable as JSON (e.g. a lone surrogate key)
        return
    r = drs("intake", str(path), "--today", "2026-11-23", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["imported"] + doc["duplicates"] + doc["rejected"] == len(doc["results"])
    assert all(x["status"] in ("imported", "duplicate", "rejected") for x in doc["results"])
    assert all(x["errors"] for x in doc["results"] if x["status"] == "rejected")
    _no_nul_in_the_database()
