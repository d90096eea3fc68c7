"""Issue 14: the possible-duplicate look-up of a batch asks for its (LA, letter, date of birth)
triples a few hundred at a time (an OR of exact matches, which SQLite answers through the index
`ix_cases_match`): every form of a large batch still finds its child's earlier case, in any chunk."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tests.intake_samples import referral

TODAY = "2026-12-01"
CHILDREN = 450  # more than two chunks of `matching._TRIPLES_A_QUERY`


def _forms(prefix: str, children: range) -> list[dict]:
    return [
        referral(
            f"{prefix}-{n:04d}",
            child_name=f"Chunk Child {n}",
            child_date_of_birth=(date(2012, 1, 1) + timedelta(days=n)).isoformat(),
            local_authority=["Salford", "Manchester"][n % 2],
        )
        for n in children
    ]


def test_every_form_of_a_large_batch_finds_its_childs_earlier_case(drs, las, drs_env, tmp_path):
    from sqlalchemy import select

    from models.db import Case
    from tasks.db import unit_of_work
    from tasks.intake import matching

    assert CHILDREN > 2 * matching._TRIPLES_A_QUERY
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(_forms("CH-A", range(CHILDREN))))
    # the same children again (new form ids), and 30 children not seen before
    second.write_text(json.dumps(_forms("CH-B", range(CHILDREN + 30))))
    for path in (first, second):
        doc = drs("intake", str(path), "--today", TODAY, "--json").json()
        assert {r["status"] for r in doc["results"]} == {"imported"}
    with unit_of_work() as db:
        flagged = {
            ref: "possible-duplicate" in (flags or []) for ref, flags in db.execute(select(Case.ref, Case.flags))
        }
    assert len(flagged) == 2 * CHILDREN + 30
    assert sum(flagged.values()) == CHILDREN  # each second form of a child seen before, no other
