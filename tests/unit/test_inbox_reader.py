"""The one inbox reader (tasks/intake/inbox.py): limits, bombs, encodings, two schemas — on a real disk."""

from __future__ import annotations

import io
import os
import time
import zipfile

import pytest

from tasks.intake import inbox as inf
from tests.intake_samples import referral, write_csv, write_json, write_xlsx

SMALL = inf.Limits(
    max_file_bytes=200_000,
    max_records=50,
    max_columns=30,
    max_cell_chars=1000,
    max_json_depth=8,
    max_json_containers=5_000,
    xlsx_max_unpacked=2_000_000,
    xlsx_max_member=500_000,
    xlsx_max_members=50,
)


def rewrite_member(path, member: str, content: bytes) -> None:
    """Replace one part of an .xlsx (a zip) with `content`, keeping the rest."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == member else src.read(info.filename))
    path.write_bytes(buf.getvalue())


def bomb_xlsx(path, member: str, unpacked: int, chunk: bytes = b"a" * 65536) -> None:
    """A valid workbook whose `member` is replaced by `unpacked` bytes that deflate to almost nothing."""
    write_xlsx(path, [referral("TT-1")])
    parts = {}
    with zipfile.ZipFile(path) as src:
        for info in src.infolist():
            parts[info.filename] = src.read(info.filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            if name != member:
                dst.writestr(name, data)
        with dst.open(member, "w") as out:
            out.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            written = 0
            while written < unpacked:
                out.write(chunk)
                written += len(chunk)
            out.write(b"</t></si></sst>")


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"])
def test_an_xlsx_bomb_is_refused_from_the_zip_directory_before_any_xml_is_parsed(tmp_path, member, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    bomb_xlsx(path, member, 100 * 1024 * 1024)  # 100 MB unpacked
    assert path.stat().st_size < 1024 * 1024
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("the XML was parsed"))
    started = time.monotonic()
    with pytest.raises(inf.UnreadableFile, match=r"would unpack to \d+\.\d MB \(the limit is"):
        inf.read_records(path)
    assert time.monotonic() - started < 2


def test_a_shared_strings_part_over_its_own_limit_is_refused(tmp_path):
    path = tmp_path / "strings.xlsx"
    bomb_xlsx(path, "xl/sharedStrings.xml", 1_000_000)
    with pytest.raises(inf.UnreadableFile, match="shared strings would unpack to"):
        inf.read_records(path, limits=SMALL)


def test_a_million_empty_rows_stop_at_the_row_limit_within_seconds(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "rows.xlsx"
    wb = Workbook()
    wb.active.append(["form_id", "child_name"])
    wb.active.append(["TT-1", "A Child"])
    wb.active.cell(row=1_048_576, column=1, value="TT-2")  # a tiny file that "has" a million rows
    wb.save(path)
    assert path.stat().st_size < 20_000
    started = time.monotonic()
    with pytest.raises(inf.UnreadableFile, match="more than 20,000 rows"):
        inf.read_records(path)
    assert time.monotonic() - started < 5


def test_a_far_right_column_is_refused_not_padded_to_sixteen_thousand_cells(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "wide.xlsx"
    wb = Workbook()
    wb.active.append(["form_id"])
    wb.active.append(["TT-1"])
    wb.active.cell(row=2, column=16_000, value="x")
    wb.save(path)
    with pytest.raises(inf.UnreadableFile, match="row 2 has more than 200 columns"):
        inf.read_records(path)


def test_a_sheet_whose_declared_dimension_hides_rows_still_gives_every_row(tmp_path):
    path = write_xlsx(tmp_path / "dim.xlsx", [referral(f"TT-{n}") for n in range(5)], real_dates=False)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    import re

    rewrite_member(
        path, "xl/worksheets/sheet1.xml", re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', sheet)
    )
    assert [fields["form_id"] for _, fields in inf.read_records(path).records] == [f"TT-{n}" for n in range(5)]


def test_a_value_beyond_the_header_rejects_that_record_not_dropped(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "beyond.xlsx"
    wb = Workbook()
    wb.active.append(["form_id", "child_name"])
    wb.active.append(["TT-1", "A Child", "stray"])
    wb.save(path)
    wb.active.append(["TT-2", "Another Child"])
    wb.save(path)
    (loc1, first), (loc2, second) = inf.read_records(path).records
    assert (loc1, loc2) == ("row 2", "row 3")
    assert (
        first == {inf.NOT_A_RECORD: first[inf.NOT_A_RECORD]}
        and "column 3, beyond the header row's 2" in first[inf.NOT_A_RECORD]
    )
    assert second["form_id"] == "TT-2"
    csv_path = tmp_path / "beyond.csv"
    csv_path.write_text("form_id,child_name\nTT-1,Smith, Jo\nTT-2,Other,\n")
    (_, first), (_, second) = inf.read_records(csv_path).records
    assert "column 3" in first[inf.NOT_A_RECORD] and second["form_id"] == "TT-2"


def test_a_long_cell_is_refused(tmp_path):
    path = write_json(tmp_path / "long.json", referral("TT-1", notes="x" * 2000))
    with pytest.raises(inf.UnreadableFile, match="record 1 has a value longer than 1,000 characters"):
        inf.read_records(path, limits=SMALL)
    csv_path = write_csv(tmp_path / "long.csv", [referral("TT-1", notes="x" * 2000)])
    with pytest.raises(inf.UnreadableFile, match="row 2 has a value longer than"):
        inf.read_records(csv_path, limits=SMALL)


@pytest.mark.parametrize(
    "member, content, reason",
    [
        ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row r='1'><c", "not a readable Excel workbook"),
        ("xl/workbook.xml", b"garbage", "not a readable Excel workbook"),
        ("xl/sharedStrings.xml", b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><sst/>', "a DTD"),
    ],
)
def test_broken_xml_inside_an_xlsx_is_a_plain_reason(tmp_path, member, content, reason):
    path = write_xlsx(tmp_path / "broken.xlsx", [referral("TT-1")], real_dates=False)
    names = zipfile.ZipFile(path).namelist()
    if member not in names:  # openpyxl writes inline strings for some versions
        member = "xl/worksheets/sheet1.xml" if reason != "a DTD" else member
    rewrite_member(path, member, content) if member in names else _add_member(path, member, content)
    with pytest.raises(inf.UnreadableFile, match=reason):
        inf.read_records(path)


def _add_member(path, member, content):
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(member, content)


def test_a_truncated_zip_is_a_plain_reason(tmp_path):
    path = write_xlsx(tmp_path / "cut.xlsx", [referral("TT-1")])
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(inf.UnreadableFile, match="not a readable Excel workbook"):
        inf.read_records(path)


@pytest.mark.parametrize("depth", [9, 100_000])
def test_deep_json_is_refused_without_recursion(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_text('{"form_id": "TT-1", "notes": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(inf.UnreadableFile, match="nested too deeply"):
        inf.read_records(path, limits=SMALL if depth < 100 else inf.LIMITS)


def test_too_many_json_objects_and_too_many_records(tmp_path):
    many = tmp_path / "many.json"
    many.write_text("[" + ",".join("{}" for _ in range(6000)) + "]")
    with pytest.raises(inf.UnreadableFile, match="too many objects and lists"):
        inf.read_records(many, limits=SMALL)
    records = tmp_path / "records.json"
    records.write_text("[" + ",".join(f'{{"form_id": "T{n}"}}' for n in range(60)) + "]")
    with pytest.raises(inf.UnreadableFile, match="more than 50 records"):
        inf.read_records(records, limits=SMALL)


def test_size_cap_on_disk(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"form_id\n" + b"TT-1\n" * 50_000)
    with pytest.raises(inf.UnreadableFile, match="too large"):
        inf.read_records(path, limits=SMALL)


def test_csv_row_limit_and_field_limit(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("form_id\n" + "".join(f"T{n}\n" for n in range(60)))
    with pytest.raises(inf.UnreadableFile, match="more than 50 rows"):
        inf.read_records(rows, limits=SMALL)
    field = tmp_path / "field.csv"
    field.write_text('form_id,notes\nTT-1,"' + "x" * 200_000 + '"\n')
    with pytest.raises(inf.UnreadableFile, match="the CSV cannot be read"):
        inf.read_records(field)


@pytest.mark.parametrize(
    "encoding, bom",
    [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_encodings_boms_and_delimiters(tmp_path, encoding, bom, delimiter):
    text = (
        delimiter.join(["Form ID", "child_name", "local_authority"])
        + "\r\n"
        + delimiter.join(["TT-5", "Zoë Brontë", "Salford"])
        + "\r\n"
    )
    path = tmp_path / "r.csv"
    path.write_bytes(bom + text.encode(encoding))
    ((locator, fields),) = inf.read_records(path).records
    assert locator == "row 2"
    assert (
        fields["form_id"] == "TT-5" and fields["child_name"] == "Zoë Brontë" and fields["local_authority"] == "Salford"
    )


def test_the_claims_schema_normalises_headers_and_needs_claim_id(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Claim ID;Case Ref;Miles\nC-1;DRS-2026-00001;12\n")
    ((_, fields),) = inf.read_records(path, schema=inf.CLAIMS).records
    assert fields == {"claim_id": "C-1", "case_ref": "DRS-2026-00001", "miles": "12"}
    bad = tmp_path / "bad.csv"
    bad.write_text("case_ref,miles\nDRS-2026-00001,12\n")
    with pytest.raises(inf.UnreadableFile, match="no claim_id column"):
        inf.read_records(bad, schema=inf.CLAIMS)
    mixed = tmp_path / "mixed.json"
    mixed.write_text('[{"Claim_ID": "C-1"}, 7]')
    records = inf.read_records(mixed, schema=inf.CLAIMS).records
    assert records[0][1] == {"claim_id": "C-1"} and inf.NOT_A_RECORD in records[1][1]


def test_a_symbolic_link_is_never_followed_and_a_fifo_never_blocks(tmp_path):
    target = write_json(tmp_path / "secret.json", referral("TT-1"))
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(inf.UnreadableFile, match="symbolic link"):
        inf.read_records(link)
    assert inf.read_records(link, follow=True).records  # a file the user named outside the inbox
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(inf.UnreadableFile, match="not a regular file"):
        inf.read_records(fifo)
    assert time.monotonic() - started < 2


def test_the_signature_is_the_file_as_opened(tmp_path):
    path = write_json(tmp_path / "a.json", referral("TT-1"))
    read = inf.read_records(path)
    st = path.stat()
    assert read.signature == (st.st_size, st.st_mtime_ns, st.st_ino)
