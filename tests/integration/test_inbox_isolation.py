"""One bad file never stops intake (referrals and claims): each file in isolation, refused entries,
files still being written, claims of live owners — through the real code and database
(SQLite, and PostgreSQL when DRS_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models.db import OutboxEmail, Referral
from tasks.db import unit_of_work
from tasks.intake import inbox as inf
from tasks.intake import inbox_owners
from tests.intake_samples import CHILD_NAME, PARENT_NAME, referral, settle, write_csv, write_json, write_xlsx

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


@pytest.fixture
def inbox(drs_env, las, monkeypatch):
    monkeypatch.setenv("DRS_INBOX_STABLE_SECONDS", "0.1")
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def intake(**kw):
    from tasks.intake.referral_intake import import_referral_files

    return import_referral_files(today=TODAY, now=NOW, **kw)


def form_ids() -> list[str]:
    with unit_of_work() as db:
        return sorted(db.scalars(select(Referral.form_id)))


def notices(kind: str = "inbox-file-rejected") -> list[OutboxEmail]:
    with unit_of_work() as db:
        rows = db.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)).all()
        return [(r.key, r.to_addr, r.subject, r.body_text) for r in rows]


def left_claimed(inbox) -> list[str]:
    return [p.name for p in (inbox / ".claimed").iterdir()]


def broken_xlsx(path):
    import zipfile

    write_xlsx(path, [referral("TT-X")])
    parts = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            parts[name] = zf.read(name)
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row r='1'><c"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return settle(path)


def test_whatever_one_file_raises_every_other_file_is_imported_in_the_same_run(inbox, monkeypatch):
    from tasks.intake import inbox_text

    write_json(inbox / "a-good.json", referral("TT-1"))
    deep = inbox / "b-deep.json"
    deep.write_text('{"form_id": "TT-D", "notes": ' + "[" * 200_000 + "]" * 200_000 + "}")
    settle(deep)
    broken_xlsx(inbox / "c-broken.xlsx")
    (inbox / "d-not.json").write_text('{"form_id": "TT-N",')
    settle(inbox / "d-not.json")
    write_csv(inbox / "e-parser-bug.csv", [referral("TT-B")])
    write_csv(inbox / "f-good.csv", [referral("TT-2", child_name="Second Child")])
    write_xlsx(inbox / "g-good.xlsx", [referral("TT-3", child_name="Third Child")])
    real_csv = inbox_text.read_csv

    def buggy(data, schema, limits):  # an exception nobody foresaw, from inside a parser
        if b"TT-B" in data:
            raise KeyError("Zebedee Quillfeather")
        return real_csv(data, schema, limits)

    monkeypatch.setattr(inbox_text, "read_csv", buggy)
    outcome = intake()
    doc = outcome.document()
    assert form_ids() == ["TT-1", "TT-2", "TT-3"]
    assert (doc["imported"], doc["rejected"]) == (3, 4)
    by_source = {r["source"]: r for r in doc["results"]}
    assert "nested too deeply" in by_source["b-deep.json"]["errors"][0]
    assert "not a readable Excel workbook" in by_source["c-broken.xlsx"]["errors"][0]
    assert "the JSON is not valid" in by_source["d-not.json"]["errors"][0]
    assert by_source["e-parser-bug.csv"]["errors"] == [
        "an unexpected error (KeyError) while reading it; the team has been told"
    ]
    # each bad file: a copy in rejected/ beside its .errors.json naming the reason; nothing left claimed
    for name in ("b-deep.json", "c-broken.xlsx", "d-not.json", "e-parser-bug.csv"):
        report = json.loads((inbox / "rejected" / f"{name}.errors.json").read_text())
        assert report["readable"] is False and report["error"] == by_source[name]["errors"][0]
        assert (inbox / "rejected" / name).exists() and (inbox / "processed" / name).exists()
    assert left_claimed(inbox) == [] and [p.name for p in inbox.iterdir() if p.is_file()] == []
    assert not [p for p in (inbox / "rejected").iterdir() if p.name.startswith(".")]
    # the team is told once per file, with a reference and no personal data, no file name
    told = notices()
    assert len(told) == 4
    for key, to, subject, body in told:
        assert to == "team@service.example.org" and key.startswith("inbox-rejected:referral:")
        reference = key.rsplit(":", 1)[1]
        assert reference in subject and reference in body
        for secret in (CHILD_NAME, PARENT_NAME, "Zebedee", "b-deep", "c-broken", "parser-bug", "d-not"):
            assert secret not in subject + body
    assert {
        json.loads((inbox / "rejected" / f"{n}.errors.json").read_text())["reference"]
        for n in ("b-deep.json", "c-broken.xlsx", "d-not.json", "e-parser-bug.csv")
    } == {k.rsplit(":", 1)[1] for k, *_ in told}
    # the same bad file dropped again: filed again, but the team is not told twice
    (inbox / "d-not.json").write_bytes((inbox / "rejected" / "d-not.json").read_bytes())
    settle(inbox / "d-not.json")
    intake()
    assert len(notices()) == 4 and left_claimed(inbox) == []


def test_a_failure_while_filing_puts_the_file_back_and_the_next_run_finishes_it(inbox, monkeypatch):
    import tasks.intake.inbox as reader

    write_json(inbox / "a.json", [referral("TT-1"), referral("TT-2", child_name="Other Child")])
    real = reader.file_away
    monkeypatch.setattr(reader, "file_away", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    assert intake().document()["imported"] == 2
    assert left_claimed(inbox) == [] and (inbox / "a.json").exists()  # back in the inbox, not stuck
    monkeypatch.setattr(reader, "file_away", real)
    settle(inbox / "a.json")
    doc = intake().document()
    assert (doc["imported"], doc["duplicates"]) == (0, 2)
    assert (inbox / "processed" / "a.json").exists() and left_claimed(inbox) == []


def test_an_unreadable_file_changed_moments_ago_waits_for_the_next_run(inbox):
    half = inbox / "half.json"
    half.write_text('[{"form_id": "TT-1", ')  # the uploader paused mid-file
    os.utime(half, (time.time() - 5, time.time() - 5))
    outcome = intake()
    assert outcome.results == [] and outcome.skipped == ["half.json"] and half.exists()
    half.write_text(json.dumps([referral("TT-1")]))  # finished
    settle(half)
    assert intake().document()["imported"] == 1 and left_claimed(inbox) == [] and notices() == []


def test_long_and_undecodable_names_are_claimed_and_filed(inbox):
    long_name = "r" * 240 + ".json"
    write_json(inbox / long_name, referral("TT-1"))
    odd = os.fsdecode(b"caf\xe9\n\x01.json")
    write_json(inbox / odd, referral("TT-2", child_name="Other Child"))
    (inbox / ("b" * 240 + ".json")).write_text("{")
    settle(inbox / ("b" * 240 + ".json"))
    doc = intake().document()
    assert form_ids() == ["TT-1", "TT-2"] and doc["rejected"] == 1
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # the summary prints
    assert left_claimed(inbox) == [] and [p for p in inbox.iterdir() if p.is_file()] == []
    names = sorted(p.name for p in (inbox / "processed").iterdir())
    assert "caf\ufffd__.json" in names and any(n.startswith("r" * 100) and n.endswith(".json") for n in names)
    assert len([p for p in (inbox / "rejected").iterdir() if p.name.endswith(".errors.json")]) == 1


def test_links_and_odd_entries_are_refused_and_never_read(inbox, tmp_path):
    outside = write_json(tmp_path / "outside" / "secret.json", referral("TT-S"))
    (inbox / "link.json").symlink_to(outside)
    (inbox / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(inbox / "pipe.json")
    (inbox / "odd folder.json").mkdir()
    (inbox / "odd folder.json" / "inner.json").write_text(json.dumps(referral("TT-I")))
    hard_target = tmp_path / "outside" / "not-a-referral.json"
    hard_target.write_text('{"private": ')
    settle(hard_target)
    os.link(hard_target, inbox / "hard.json")  # e.g. a link to /etc/passwd: refused unread (qa-12)
    write_json(inbox / "good.json", referral("TT-1"))
    before = outside.read_bytes()
    started = time.monotonic()
    doc = intake().document()
    assert time.monotonic() - started < 10  # the pipe never blocked the run
    assert form_ids() == ["TT-1"]
    refused = {r["source"]: r["errors"][0] for r in doc["results"] if r["status"] == "rejected"}
    assert set(refused) == {"link.json", "dangling.csv", "pipe.json", "odd folder.json", "hard.json"}
    assert "symbolic link" in refused["link.json"] and "folder" in refused["odd folder.json"]
    assert "pipe, socket or device" in refused["pipe.json"] and "other hard links" in refused["hard.json"]
    rejected = inbox / "rejected"
    for name in refused:
        assert json.loads((rejected / f"{name}.errors.json").read_text())["refused"] is True
    assert not (rejected / "hard.json").exists() and not (inbox / "hard.json").exists()
    assert os.stat(hard_target).st_nlink == 1  # only the inbox's link was removed
    assert hard_target.read_text() == '{"private": '
    # nothing from outside the inbox was read or copied: no copy of the target anywhere in rejected/
    for path in rejected.rglob("*"):
        assert path.is_symlink() is False
        if path.is_file() and not path.name.endswith(".errors.json"):
            assert (
                path.read_bytes() != before and b"TT-S" not in path.read_bytes() and b"private" not in path.read_bytes()
            )
    assert outside.read_bytes() == before and outside.exists()
    assert (rejected / "odd folder.json" / "inner.json").exists()  # moved as it is, unread
    assert [p.name for p in inbox.iterdir() if p.name not in ("processed", "rejected", ".claimed", ".leases")] == []
    assert left_claimed(inbox) == [] and len(notices()) == 5


def test_a_planted_link_as_rejected_folder_is_set_aside_not_written_through(inbox, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / "rejected").symlink_to(elsewhere, target_is_directory=True)
    (inbox / "bad.json").write_text("{")
    settle(inbox / "bad.json")
    intake()
    assert list(elsewhere.iterdir()) == []
    assert (inbox / "rejected").is_dir() and not (inbox / "rejected").is_symlink()
    assert (inbox / "rejected" / "bad.json.errors.json").exists()


def test_a_file_appended_to_while_it_was_read_goes_back_and_nothing_is_lost(inbox, monkeypatch):
    import tasks.intake.referral_intake as intake_module

    path = write_json(inbox / "growing.json", [referral("TT-1")])
    real = intake_module.import_records_batched
    appended = []

    def import_and_write_more(records, **kw):  # the website writes the rest while intake reads
        result = list(real(records, **kw))
        if not appended:
            (claimed,) = [p for p in (inbox / ".claimed").iterdir()]
            claimed.write_text(json.dumps([referral("TT-1"), referral("TT-2", child_name="Late Child")]))
            appended.append(claimed)
        return result

    monkeypatch.setattr(intake_module, "import_records_batched", import_and_write_more)
    first = intake()
    assert first.document()["imported"] == 1 and first.skipped == ["growing.json"]
    assert path.exists() and left_claimed(inbox) == [] and not (inbox / "processed" / "growing.json").exists()
    monkeypatch.setattr(intake_module, "import_records_batched", real)
    settle(path)
    doc = intake().document()
    assert [(r["form_id"], r["status"]) for r in doc["results"]] == [("TT-1", "duplicate"), ("TT-2", "imported")]
    assert form_ids() == ["TT-1", "TT-2"] and (inbox / "processed" / "growing.json").exists()


HOLDER = r"""
import sys, time
from pathlib import Path
from tasks.intake import inbox as inf
inbox = Path(sys.argv[1])
item = inf.claim_one(inbox / "held.json", inbox)
print(item.path, flush=True)
time.sleep(120)
"""


def test_a_live_runs_claim_never_expires_and_a_dead_runs_is_taken_back(inbox):
    write_json(inbox / "held.json", referral("TT-1"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(inbox)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        claimed = holder.stdout.readline().strip()
        assert claimed and os.path.exists(claimed)
        # a day later by the wall clock: the owner still lives, its claim is still its own
        assert intake(wall=time.time() + 86_400).results == []
        assert os.path.exists(claimed)
    finally:
        holder.kill()
        holder.wait()
    doc = intake().document()
    assert doc["imported"] == 1 and left_claimed(inbox) == []


def test_claim_owners_pid_reuse_and_other_hosts(tmp_path):
    inbox = tmp_path / "inbox"
    inf.ensure_folders(inbox)
    wall = time.time()
    me, start = os.getpid(), inf.process_start(os.getpid())
    parent = os.getppid()
    names = {
        "mine-old.json": f"{int(wall - 7200)}.{me}.{start}.{inf.host()}__mine-old.json",  # live owner, 2 h ago
        "reused.json": f"{int(wall)}.{parent}.{(inf.process_start(parent) or 0) + 12345}.{inf.host()}__reused.json",
        "far-live.json": f"{int(wall - 7200)}.42.777.farhost__far-live.json",
        "far-dead.json": f"{int(wall - 7200)}.43.778.farhost__far-dead.json",
        "far-nolease.json": f"{int(wall - 7200)}.44.779.farhost__far-nolease.json",
    }
    for name in names.values():
        (inbox / ".claimed" / name).write_text("{}")
    (inbox / ".leases").mkdir(exist_ok=True)
    (inbox / ".leases" / "42.777.farhost").touch()  # renewed just now by its owner
    stale = inbox / ".leases" / "43.778.farhost"
    stale.touch()
    os.utime(stale, (wall - 3600, wall - 3600))
    taken = inf.claim_inbox(inbox, wall=wall, interval=0).claimed
    assert sorted(t.name for t in taken) == ["far-dead.json", "far-nolease.json", "reused.json"]
    assert (inbox / ".claimed" / names["mine-old.json"]).exists()
    assert (inbox / ".claimed" / names["far-live.json"]).exists()
    # this process holds a lease renewed by a thread for as long as it lives
    lease = inbox / ".leases" / inf.owner_id()
    assert lease.exists() and inbox_owners._RENEWER[1].is_alive()


def test_claims_inbox_gets_the_same_reader_and_hand_off(drs_env, las, monkeypatch, tmp_path):
    from tasks.claims.claims_in import import_claims
    from tests.integration.test_claims_support import claim, make_case, write_csv

    monkeypatch.setenv("DRS_INBOX_STABLE_SECONDS", "0.1")
    ref = make_case("E08000006", 1)
    box = drs_env.home / "inbox" / "claims"
    box.mkdir(parents=True)
    settle(write_csv(box / "a.csv", [claim("C-1", ref, 1, miles="10")]))
    semi = box / "b.csv"  # Excel's semicolons and a BOM, as the referral reader takes them
    semi.write_bytes(
        b"\xef\xbb\xbf"
        + write_csv(tmp_path / "x.csv", [claim("C-2", ref, 1, miles="5")]).read_text().replace(",", ";").encode()
    )
    settle(semi)
    (box / "c.json").write_text("[" * 100_000)
    settle(box / "c.json")
    (box / "d.json").symlink_to(write_csv(tmp_path / "outside.csv", [claim("C-9", ref, 1, miles="1")]))
    doc = import_claims(None, TODAY, NOW)
    assert sorted(r["claim_id"] for r in doc["results"] if r["status"] != "invalid") == ["C-1", "C-2"]
    assert doc["invalid"] == 2
    assert (box / "rejected" / "c.json.errors.json").exists() and (box / "rejected" / "d.json.errors.json").exists()
    assert sorted(p.name for p in (box / "processed").iterdir()) == ["a.csv", "b.csv", "c.json"]
    assert [p.name for p in (box / ".claimed").iterdir()] == []
    told = notices()
    assert len(told) == 2 and all(k.startswith("inbox-rejected:claim:") for k, *_ in told)


def test_naming_the_claims_inbox_takes_and_files_its_files(drs_env, las, drs, monkeypatch):
    from tests.integration.test_claims_support import claim, make_case, write_csv

    monkeypatch.setenv("DRS_INBOX_STABLE_SECONDS", "0")
    ref = make_case("E08000006", 1)
    box = drs_env.home / "inbox" / "claims"
    box.mkdir(parents=True)
    write_csv(box / "a.csv", [claim("C-1", ref, 1, miles="10")])
    write_csv(box / "b.csv", [claim("C-2", ref, 1, miles="4")])
    r = drs("claims", "import", str(box / "b.csv"), "--today", "2026-11-23", "--json")
    assert r.exit_code == 0 and [x["claim_id"] for x in r.json()["results"]] == ["C-2"]
    r = drs("claims", "import", str(box), "--today", "2026-11-23", "--json")
    assert [x["claim_id"] for x in r.json()["results"]] == ["C-1"]
    assert sorted(p.name for p in (box / "processed").iterdir()) == ["a.csv", "b.csv"]
    assert [p.name for p in box.iterdir() if p.is_file()] == [] and list((box / ".claimed").iterdir()) == []
