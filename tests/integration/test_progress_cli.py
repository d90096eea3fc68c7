"""Long commands say nothing extra when stderr is not a terminal (pipes, cron, CI, `--json`), and
report through `tasks.operations.progress` as they go."""

from __future__ import annotations

from tests.intake_samples import referral, write_json


def test_intake_and_demo_write_no_progress_when_stderr_is_not_a_terminal(drs, las, tmp_path):
    path = write_json(tmp_path / "batch.json", [referral(f"TT-{n}") for n in range(1, 6)])
    r = drs("intake", str(path), "--today", "2026-11-27")
    assert r.exit_code == 0, r.stderr
    assert "records/s" not in r.stderr and "\x1b[" not in r.stderr
    r = drs("demo", "--today", "2026-11-27", "--cases", "3")
    assert r.exit_code == 0
    assert "cases/s" not in r.stderr and "\x1b[" not in r.stderr


def test_intake_reports_each_record_to_a_display(drs, las, tmp_path, monkeypatch):
    from tasks.operations import progress

    seen = {"total": 0, "done": 0}
    monkeypatch.setattr(
        progress,
        "_listener",
        (lambda n: seen.__setitem__("total", seen["total"] + n), lambda n: seen.__setitem__("done", seen["done"] + n)),
    )
    path = write_json(tmp_path / "batch.json", [referral(f"TT-{n}") for n in range(1, 6)])
    r = drs("intake", str(path), "--today", "2026-11-27", "--json")
    assert r.exit_code == 0 and r.json()["imported"] == 5
    assert seen == {"total": 5, "done": 5}
