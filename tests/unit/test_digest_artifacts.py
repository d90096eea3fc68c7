"""Issue 14: the `deadline-digest` artifacts are bounded (the digest email itself lists every row)."""

from __future__ import annotations

from datetime import date, timedelta

from models.domain.digest import DigestRow
from tasks.deadlines.digest import artifact_table, digest_markdown, digest_table

TODAY = date(2026, 12, 1)


def _rows(n: int) -> list[DigestRow]:
    return [
        DigestRow(
            la_code=f"E0600000{i % 3}",
            case_ref=f"DRS-2026-{i:05d}",
            clock="mediation_by",
            due=TODAY + timedelta(days=i % 7),
            target=TODAY + timedelta(days=i % 7),
            state="missed" if i % 5 == 0 else "open",
            owner="la",
            working_days_left=i % 7,
        )
        for i in range(n)
    ]


def test_a_short_digest_is_published_whole_as_before():
    rows = _rows(12)
    assert artifact_table(TODAY, rows, limit=12) == digest_table(rows)
    assert digest_markdown(TODAY, rows, limit=12) == digest_markdown(TODAY, rows)
    assert "more" not in digest_markdown(TODAY, rows, limit=12)
    assert artifact_table(TODAY, [], limit=12)[0]["clock"] == "nothing due"


def test_a_long_digest_is_cut_with_a_count_and_where_the_rest_are():
    rows = sorted(_rows(1000), key=lambda r: (r.la_code, r.state != "missed", r.target, r.case_ref))
    table = artifact_table(TODAY, rows, limit=100)
    assert len(table) == 101 and table[:100] == digest_table(rows[:100])
    assert "900 more" in table[-1]["clock"] and "digest:2026-12-01" in table[-1]["clock"]
    markdown = digest_markdown(TODAY, rows, limit=100)
    lines = markdown.splitlines()
    assert sum(line.startswith("- DRS-") for line in lines) == 100
    assert sum(line.startswith("## ") for line in lines) == 3  # every LA's counts, even those not listed
    assert "## E06000000: " in markdown and "## E06000002: " in markdown
    assert "900 more" in lines[-1] and "drs case show" in lines[-1]
    full = digest_markdown(TODAY, rows)
    assert sum(line.startswith("- DRS-") for line in full.splitlines()) == 1000
