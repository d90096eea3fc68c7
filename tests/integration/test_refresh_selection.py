"""Issue 14: `refresh_clocks` finds the cases computed under another rule set through an index.

The test is written as `rules_version IS NULL OR < current OR > current` (an index answers it;
`!=` used none and read every case each day): the same cases as before — NULL, older and newer
versions, never a closed or anonymised case, never a case already current.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update

from tests.monitor_cases import make_case

SALFORD = "E08000006"


def test_the_cases_with_another_rule_set_and_only_those_are_recomputed(las):
    from models.db import Case
    from models.domain.rules import CURRENT_RULES_VERSION
    from tasks.db import unit_of_work
    from tasks.deadlines.job import run

    versions = [None, "0000-old", CURRENT_RULES_VERSION + "~newer", CURRENT_RULES_VERSION, None, "0000-old"]
    refs = [make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12)) for _ in versions]
    today, now = date(2026, 11, 24), datetime.fromisoformat("2026-11-24T06:45:00+00:00")
    assert run(today, now).cases_recomputed == len(refs)  # the first run stores the holiday digest
    with unit_of_work() as db:
        for ref, version in zip(refs, versions, strict=True):
            db.execute(update(Case).where(Case.ref == ref).values(rules_version=version))
        db.execute(update(Case).where(Case.ref == refs[4]).values(status="closed"))
        db.execute(update(Case).where(Case.ref == refs[5]).values(anonymised_at=now))
        db.commit()
    assert run(today, now).cases_recomputed == 3  # NULL, older, newer; not current, closed, anonymised
    assert run(today, now).cases_recomputed == 0
    with unit_of_work() as db:
        stored = {c.ref: c.rules_version for c in db.query(Case).where(Case.ref.in_(refs[:4]))}
    assert set(stored.values()) == {CURRENT_RULES_VERSION}
