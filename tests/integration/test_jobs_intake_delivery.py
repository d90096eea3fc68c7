"""The intake and delivery jobs called as plain functions (`tasks.intake.job`, `tasks.mail.job`):
typed summaries whose `as_dict()` is the command's JSON, what the direct path skipped, and the
settings handed in at the job's entry (`tasks.wiring`) rather than read from the environment."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.intake_samples import referral, write_json

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_intake_job_summary_is_the_commands_json(drs_env, las, drs):
    from tasks.intake import job

    inbox = drs_env.home / "inbox" / "referrals"
    write_json(inbox / "a.json", [referral("JB-1"), referral("JB-2", requester_email="nope")])
    summary = job.run(TODAY, NOW)
    assert summary.skipped == ("dashboard artifacts", "background delivery")
    assert (summary.count("imported"), summary.count("rejected")) == (1, 1)
    assert len(summary.outbox_ids) == 2  # the acknowledgement and the team's notice
    write_json(inbox / "b.json", [referral("JB-1"), referral("JB-2", requester_email="nope")])
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert "drs: skipped without a server: dashboard artifacts, background delivery" in r.stderr
    again = r.json()
    assert set(again) == set(summary.as_dict()) == {"imported", "duplicates", "rejected", "results"}
    assert [r["status"] for r in again["results"]] == ["duplicate", "rejected"]
    rows = {row["item"]: row["value"] for row in summary.artifact_rows()}
    assert rows["new cases"] == "DRS-2026-00001"
    assert rows["rejected because: requester email does not look like an email address"] == "1"


def test_intake_job_uses_the_wiring_it_is_handed(drs_env, las, tmp_path):
    from tasks.intake import job
    from tasks.wiring import Wiring

    elsewhere = tmp_path / "elsewhere"
    write_json(elsewhere / "inbox" / "referrals" / "a.json", referral("JB-9"))
    wiring = Wiring(settings=drs_env.model_copy(update={"home": elsewhere}))
    summary = job.run(TODAY, NOW, wiring=wiring)
    assert summary.as_dict()["imported"] == 1
    assert (elsewhere / "inbox" / "referrals" / "processed" / "a.json").exists()
    assert not (drs_env.home / "inbox" / "referrals" / "processed").exists()


def test_delivery_job_summary_is_the_commands_json(drs_env, las, drs):
    from tasks.mail import job

    write_json(drs_env.home / "inbox" / "referrals" / "a.json", referral("JB-1"))
    assert drs("intake", "--today", "2026-11-23", "--json").json()["imported"] == 1
    summary = job.run(None, NOW, retry_waiting=True)
    assert summary.skipped == ()
    assert summary.as_dict() == {"sent": 2, "retrying": 0, "failed": 0, "remaining": 0}
    assert drs("mail", "deliver", "--json", "--now", NOW.isoformat()).json() == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
        "remaining": 0,
    }
    assert len(list((drs_env.home / "outbox" / "sent").glob("*.eml"))) == 2
