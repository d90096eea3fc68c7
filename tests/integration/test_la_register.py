"""`drs la import` (issue #12 §1, last bullet): a wrong line names the file and the line in one clear
error (exit 2), nothing changes (all rows or none, the last good register stays), never a
traceback; the register's sanity-limit columns and the encodings Excel writes are accepted."""

from __future__ import annotations

import pytest

HEADER = (
    "code,name,aliases,sen_team_email,finance_email,mileage_rate_pence,receipt_threshold_pounds,claim_window_days\n"
)
GOOD = "E08000009,Trafford,Trafford Council,sen@trafford.example,finance@trafford.example,40,15,60\n"


def _register(drs) -> list[dict]:
    return drs("la", "list", "--json").json()


@pytest.mark.parametrize(
    "content, line, words",
    [
        (HEADER + GOOD + "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,lots,,\n", 3, "not a whole number"),
        (HEADER + GOOD + "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,-5,,\n", 3, "outside 0-200"),
        (
            HEADER + GOOD + "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,45,inf,\n",
            3,
            "receipt_threshold_pounds",
        ),
        (
            HEADER + GOOD + "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,45,nan,\n",
            3,
            "receipt_threshold_pounds",
        ),
        (
            HEADER + GOOD + "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,45,1e400,\n",
            3,
            "receipt_threshold_pounds",
        ),
        (HEADER + GOOD + "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,45,10,0\n", 3, "claim_window_days"),
        (HEADER + GOOD + GOOD, 3, "already on line 2"),
        (HEADER + GOOD + "E08000010,Wigan,Trafford,,,,,\n", 3, "also used on line 2"),
        (HEADER + GOOD + "E08000010,Wigan,,,,,,,extra\n", 3, "more fields than the header"),
        (HEADER + GOOD + "E08000010," + "W" * 300 + ",,,,,,\n", 3, "longer than 120"),
        (HEADER + GOOD + "E08000010,Wig\x07an,,,,,,\n", 3, "control character"),
        (HEADER + GOOD + "not-a-code,Wigan,,,,,,\n", 3, "not an ONS code"),
        (HEADER + GOOD + 'E08000010,"Wigan\n', 3, "not valid CSV"),
        (HEADER + GOOD + 'E08000010,"Wig"an,,,,,,\n', 3, "not valid CSV"),
        (HEADER + GOOD + '"E08000010","Wigan\nMetro",,,,,,\n', 3, "control character"),
        (HEADER.replace("claim_window_days", "max_mile"), 1, "unknown column"),
        ("code,code,name\n", 1, "given twice"),
        ("", 1, "missing column"),
        (HEADER, 2, "no local authority"),
        ("code,name,max_miles\nE08000010,Wigan,0\n", 2, "max_miles"),
        ("code,name,max_item_pounds\nE08000010,Wigan,lots\n", 2, "max_item_pounds"),
        ("code,name,remittance_days\nE08000010,Wigan,99999\n", 2, "remittance_days"),
    ],
)
def test_a_wrong_line_is_named_and_nothing_changes(las, drs, tmp_path, content, line, words):
    before = _register(drs)
    path = tmp_path / "register.csv"
    path.write_text(content, encoding="utf-8")
    r = drs("la", "import", str(path))
    assert r.exit_code == 2, r.stderr
    message = r.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "register.csv" in message and f"line {line}" in message and "nothing was changed" in message
    assert words in message
    assert _register(drs) == before


def test_bytes_that_are_not_text_and_huge_files_are_refused_without_change(las, drs, tmp_path):
    before = _register(drs)
    for name, data in (
        ("nul.csv", (HEADER + GOOD).encode() + b"\x00\x00"),
        ("binary.csv", b"\x81\x8d\x8f" * 10),
        ("huge.csv", HEADER.encode() + GOOD.encode() * 40_000),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        r = drs("la", "import", str(path))
        assert r.exit_code == 2 and name in r.stderr and len(r.stderr.strip().splitlines()) == 1, (name, r.stderr)
    assert drs("la", "import", str(tmp_path / "missing.csv")).exit_code == 2
    assert _register(drs) == before


def test_a_name_another_la_on_the_register_uses_is_refused(las, drs, tmp_path):
    before = _register(drs)
    path = tmp_path / "register.csv"
    path.write_text(HEADER + GOOD + "E08000010,Wigan,Salford City Council,,,,,\n", encoding="utf-8")
    r = drs("la", "import", str(path))
    assert r.exit_code == 2 and "line 3" in r.stderr and "E08000006" in r.stderr
    assert _register(drs) == before


def test_excel_csv_with_odd_headers_and_limits_is_imported(drs_env, drs, tmp_path):
    path = tmp_path / "register.csv"
    text = (
        " Code ,NAME,Aliases,SEN_team_email,finance_email,max_miles,max_item_pounds,max_meeting_pounds,"
        "remittance_days,certificate_needs_approval\r\n"
        'e08000009,Trafford,Trafford MBC,sen@trafford.example,finance@trafford.example,120.5,£750,"1,500",365,yes\r\n'
    )
    path.write_bytes(text.encode("cp1252"))  # Windows-1252 (the £), as Excel's plain "CSV" writes it
    r = drs("la", "import", str(path))
    assert r.exit_code == 0, r.stderr
    (row,) = _register(drs)
    assert (
        row["code"],
        row["max_miles"],
        row["max_item_pounds"],
        row["max_meeting_pounds"],
        row["remittance_days"],
        row["certificate_needs_approval"],
    ) == ("E08000009", 120.5, 750, 1500, 365, True)
    # and again with UTF-8 and a BOM, the limits now left empty: the built-in ones apply again
    path.write_text("\ufeffcode,name,max_miles\nE08000009,Trafford,\n", encoding="utf-8")
    assert drs("la", "import", str(path)).exit_code == 0
    (row,) = _register(drs)
    assert (row["max_miles"], row["max_item_pounds"]) == (300, 500)
