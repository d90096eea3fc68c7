"""Reading referral files and claiming them from the inbox (tasks/intake/referral_files.py), on a real disk."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime

import pytest

from tasks.intake import referral_files as rf
from tests.intake_samples import referral, write_csv, write_json, write_xlsx


def test_json_object_list_csv_and_xlsx_give_the_same_flat_records(tmp_path):
    records = [referral("TT-1"), referral("TT-2", sections=["B", "I"], decision_type="plan_contents")]
    single = rf.read_records(write_json(tmp_path / "one.json", records[0]))
    many = rf.read_records(write_json(tmp_path / "many.json", records))
    from_csv = rf.read_records(write_csv(tmp_path / "r.csv", records))
    from_xlsx = rf.read_records(write_xlsx(tmp_path / "r.xlsx", records, real_dates=False))
    assert [loc for loc, _ in single] == ["record 1"]
    assert [loc for loc, _ in many] == ["record 1", "record 2"]
    assert [loc for loc, _ in from_csv] == ["row 2", "row 3"]
    assert [loc for loc, _ in from_xlsx] == ["row 2", "row 3"]
    for (_, j), (_, c), (_, x) in zip(many, from_csv, from_xlsx):
        assert j["form_id"] == c["form_id"] == x["form_id"]
        assert j["child_name"] == c["child_name"] == x["child_name"]
        assert j["decision_letter_sent_on"] == c["decision_letter_sent_on"] == x["decision_letter_sent_on"]
    assert from_csv[1][1]["sections"] == "B;I"


def test_xlsx_date_cells_come_back_as_dates(tmp_path):
    ((_, fields),) = rf.read_records(write_xlsx(tmp_path / "r.xlsx", [referral("TT-9")]))
    assert isinstance(fields["child_date_of_birth"], datetime)


def test_csv_with_semicolons_and_a_bom_is_read(tmp_path):
    path = write_csv(tmp_path / "r.csv", [referral("TT-5")], delimiter=";")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ((_, fields),) = rf.read_records(path)
    assert fields["form_id"] == "TT-5" and fields["local_authority"] == "Salford"


def test_blank_csv_rows_are_skipped_and_row_numbers_kept(tmp_path):
    path = write_csv(tmp_path / "r.csv", [referral("TT-1"), referral("TT-2")])
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], ",,,,", lines[2]]) + "\n")
    assert [loc for loc, _ in rf.read_records(path)] == ["row 2", "row 4"]


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("bad.json", b'{"form_id": "TT-1",', "the JSON is not valid"),
        ("list.json", b"[1, 2]", "record 1 is not a JSON object"),
        ("empty.csv", b"", "the file is empty"),
        ("noheader.csv", b"TT-1,2026-11-20\n", "the header row has no form_id column"),
        ("fake.xlsx", b"this is not a workbook", "not a readable Excel workbook"),
        ("notes.txt", b"hello", "expected a .json, .csv or .xlsx file"),
        ("latin.json", b'{"form_id": "\xe9"}', "not UTF-8"),
    ],
)
def test_unreadable_files_say_why_in_plain_words(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(rf.UnreadableFile, match=reason):
        rf.read_records(path)


def test_claim_takes_stable_files_and_leaves_ones_being_written(tmp_path):
    import threading

    inbox = tmp_path / "referrals"
    ready = write_json(inbox / "ready.json", referral())
    quiet = inbox / "quiet.json"
    quiet.write_text("{}")  # written just now, but nobody writes to it any more: stable across two looks
    growing = inbox / "growing.json"
    growing.write_text("[")
    (inbox / "upload.json.part").write_text("{")
    (inbox / "~$book.xlsx").write_text("lock")
    (inbox / ".hidden.json").write_text("{}")
    stop = threading.Event()

    def writer():  # the website still appending
        while not stop.is_set():
            with growing.open("a") as fh:
                fh.write(" ")
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        started = time.monotonic()
        claimed, skipped = rf.claim_inbox(inbox, interval=0.3)
        assert time.monotonic() - started >= 0.3  # a fresh file waits for the second look
    finally:
        stop.set()
        thread.join()
    assert [c.name for c in claimed] == ["quiet.json", "ready.json"]
    assert skipped == ["growing.json"]
    assert not ready.exists() and claimed[0].path.parent == inbox / ".claimed"
    assert growing.exists() and (inbox / "upload.json.part").exists()


def test_no_wait_when_every_file_has_long_been_untouched(tmp_path):
    inbox = tmp_path / "referrals"
    write_json(inbox / "ready.json", referral())
    started = time.monotonic()
    claimed, _ = rf.claim_inbox(inbox, interval=5)
    assert [c.name for c in claimed] == ["ready.json"] and time.monotonic() - started < 2


def test_two_claims_never_take_the_same_file(tmp_path):
    inbox = tmp_path / "referrals"
    for n in range(20):
        write_json(inbox / f"f{n:02d}.json", referral(f"TT-{n}"))
    first, _ = rf.claim_inbox(inbox)
    second, _ = rf.claim_inbox(inbox)
    assert len(first) == 20 and second == []


def test_a_crashed_runs_claim_is_taken_again(tmp_path):
    inbox = tmp_path / "referrals"
    rf.ensure_folders(inbox)
    wall = time.time()
    # a claim by a process that no longer exists on this host
    dead = inbox / ".claimed" / rf.claim_name("dead.json", wall).replace(f".{os.getpid()}.", ".999999999.")
    dead.write_text("{}")
    # an old claim (another host, long ago)
    old = inbox / ".claimed" / f"{int(wall - 3600)}.42.otherhost__old.json"
    old.write_text("{}")
    # a live claim by this process, just now: not taken
    live = inbox / ".claimed" / f"{int(wall)}.{os.getpid()}.{rf._host()}__live.json"
    live.write_text("{}")
    claimed, _ = rf.claim_inbox(inbox, wall=wall)
    assert sorted(c.name for c in claimed) == ["dead.json", "old.json"]
    assert live.exists()


def test_filing_never_overwrites_an_earlier_file_of_the_same_name(tmp_path):
    inbox = tmp_path / "referrals"
    for n in range(2):
        write_json(inbox / "export.json", referral(f"TT-{n}"))
        (item,), _ = rf.claim_inbox(inbox)
        rf.file_away(item, inbox, rejected_whole=False)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["export-2.json", "export.json"]


def test_rejected_copy_sits_beside_its_errors_json(tmp_path):
    inbox = tmp_path / "referrals"
    source = write_json(tmp_path / "mine.json", referral())
    target = rf.write_rejected(source, "mine.json", inbox, {"records": [{"errors": ["x"]}]})
    assert source.exists() and target.read_bytes() == source.read_bytes()
    assert json.loads((inbox / "rejected" / "mine.json.errors.json").read_text())["records"][0]["errors"] == ["x"]


def test_the_same_rejected_file_given_again_is_not_copied_twice(tmp_path):
    inbox = tmp_path / "referrals"
    source = write_json(tmp_path / "mine.json", referral())
    report = {"records": [{"errors": ["x"]}]}
    first = rf.write_rejected(source, "mine.json", inbox, report)
    assert rf.write_rejected(source, "mine.json", inbox, report) == first
    other = rf.write_rejected(source, "mine.json", inbox, {"records": [{"errors": ["y"]}]})
    assert other.name == "mine-2.json"
    assert sorted(p.name for p in (inbox / "rejected").iterdir()) == [
        "mine-2.json",
        "mine-2.json.errors.json",
        "mine.json",
        "mine.json.errors.json",
    ]
