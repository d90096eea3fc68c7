"""Certificates in any script (issue #12 §3): names in Chinese, Arabic, Cyrillic, Greek, Devanagari,
Hebrew, Korean, mathematical letters and emoji are printed with the embedded Noto fonts and read
back with pypdf; a character no font can draw stops that certificate (error, team told, nothing
sent, no PDF) and no name ever reaches stderr or the logs."""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.monitor_cases import FAMILY_EMAIL, make_case, outbox_rows

SALFORD = "E08000006"
#: (parent's name, child's name): one pair per script
NAMES = {
    "chinese": ("王秀英", "李小龍"),
    "arabic": ("محمد عبد الله", "فاطمة الزهراء"),
    "cyrillic": ("Анна Петрова", "Олег Шевченко"),
    "greek": ("Σωκράτης Παπαδόπουλος", "Ελένη Γεωργίου"),
    "devanagari": ("अनन्या शर्मा", "राहुल"),
    "math-emoji": ("𝐉𝐨𝐡𝐧 𝔖𝔪𝔦𝔱𝔥 😀", "Zoë 👍 O'Neill-Łukasz"),
    "hebrew-korean": ("יעל כהן", "김민준"),
}
RTL = {"arabic", "hebrew-korean"}
FONT_OF = {
    "chinese": "NotoSansCJKSC",
    "arabic": "NotoSansArabic",
    "devanagari": "NotoSansDevanagari",
    "math-emoji": "NotoSansMath",
    "hebrew-korean": "NotoSansHebrew",
}


def _case_named(parent: str, child: str) -> str:
    from models.db import Case
    from tasks.db import unit_of_work

    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )
    with unit_of_work() as db:
        db.execute(update(Case).where(Case.ref == ref).values(requester_name=parent, child_name=child))
        db.commit()
    return ref


def _pdf(data: bytes) -> tuple[str, set[str]]:
    """(text as extracted, whitespace squeezed; base names of the fonts embedded)."""
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    return " ".join(page.extract_text().split()), fonts


def _found(name: str, text: str, rtl: bool) -> bool:
    squeezed = "".join(text.split())
    if rtl:  # extracted in visual order: each word is there, the words may come right to left
        return all(word in text or "".join(word.split()) in squeezed for word in name.split())
    return name in text or "".join(name.split()) in squeezed


def test_names_in_seven_scripts_are_printed_read_back_and_emailed(las, drs, drs_env, caplog):
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    caplog.set_level(logging.DEBUG)
    issued = {}
    for script, (parent, child) in NAMES.items():
        ref = _case_named(parent, child)
        r = drs("certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27", "--json")
        assert r.exit_code == 0, (script, r.stderr)
        assert parent not in r.stderr and child not in r.stderr
        issued[script] = (ref, r.json())
    for script, (ref, doc) in issued.items():
        parent, child = NAMES[script]
        text, fonts = _pdf(Path(doc["pdf"]).read_bytes())
        assert _found(parent, text, script in RTL), (script, text)
        assert _found(child, text, script in RTL), (script, text)
        assert ref in text and "Salford" in text
        assert any(f.endswith("+NotoSans") for f in fonts), fonts
        if script in FONT_OF:
            assert any(FONT_OF[script] in f for f in fonts), (script, fonts)
    with unit_of_work() as db:
        emails = db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "certificate")).all()
        assert len(emails) == len(NAMES) and {e.to_addr for e in emails} == {FAMILY_EMAIL}
    logged = caplog.text
    for parent, child in NAMES.values():
        assert parent not in logged and child not in logged


def test_a_shaped_script_has_real_glyphs_not_blanks():
    """Arabic and Devanagari are shaped (contextual forms, conjuncts): the glyphs drawn are the fonts'
    own, never .notdef (glyph 0), and the name's letters come back out of the PDF."""
    import uharfbuzz as hb

    from tasks.certificates.typefaces import FONT_DIR

    for text, font in (("محمد", "NotoSansArabic-Regular.ttf"), ("शर्मा", "NotoSansDevanagari-Regular.ttf")):
        face = hb.Face(hb.Blob.from_file_path(str(FONT_DIR / font)))
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(hb.Font(face), buf)
        gids = [info.codepoint for info in buf.glyph_infos]
        assert gids and 0 not in gids


def test_a_character_no_font_can_draw_stops_the_certificate_and_tells_the_team(las, drs, drs_env, caplog):
    from models.db import CaseEvent, Certificate
    from tasks.db import unit_of_work

    caplog.set_level(logging.DEBUG)
    parent = "Alex \ue000Private"  # a private-use character: no font has it
    ref = _case_named(parent, "Sam Example-Child")
    r = drs("certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27")
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "cannot be printed" in r.stderr and "Parent or young person" in r.stderr and "private-use" in r.stderr
    assert ref in r.stderr and "Private" not in r.stderr and "Alex" not in r.stderr
    assert not drs_env.certificates_dir.exists() or list(drs_env.certificates_dir.iterdir()) == []
    with unit_of_work() as db:
        assert db.scalars(select(Certificate)).all() == []
        assert "certificate-issued" not in [e.event for e in db.scalars(select(CaseEvent))]
    rows = outbox_rows()
    assert [key for key, *_ in rows if key.startswith("certificate:")] == []
    notices = [
        (key, to, subject, body) for key, to, subject, body in rows if key.startswith("certificate-not-printable")
    ]
    assert len(notices) == 1 and notices[0][1] == drs_env.team_email and ref in notices[0][2]
    assert "Alex" not in notices[0][3]
    # asked again (the monitor's next run, or the adviser retrying): still refused, the team told once
    assert drs("certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27").exit_code == 2
    assert len([k for k, *_ in outbox_rows() if k.startswith("certificate-not-printable")]) == 1
    assert "Private" not in caplog.text


@pytest.mark.parametrize("bad, kind", [("\u0378", "unassigned"), ("\ud800", "surrogate"), ("\x07", "control")])
def test_unassigned_surrogate_and_control_characters_are_refused_by_kind(bad, kind):
    from tasks.certificates.typefaces import UndrawableText, plan_fonts

    with pytest.raises(UndrawableText) as err:
        plan_fonts({"Child or young person": f"Kim{bad}Lee"})
    assert kind in str(err.value) and "Kim" not in str(err.value)


def test_fonts_are_chosen_per_script_and_invisible_marks_dropped():
    from tasks.certificates.typefaces import PRIMARY, plan_fonts

    plan = plan_fonts({"a": "Zoë\u00a0Ωmega Юлия", "b": "王\U000e0001秀英", "c": "line\none"})
    assert plan.fonts == (PRIMARY, "NotoSansCJKsc-Regular-subset.ttf")
    assert plan.fields["b"] == "王秀英"  # a language tag draws nothing and no font has it
    assert plan.fields["c"] == "line one"  # a one-line field
    assert plan_fonts({"body": "a\nb"}, multi_line=frozenset({"body"})).fields["body"] == "a\nb"


def test_font_library_warnings_carry_no_text_while_quiet(caplog, capfd):
    """fpdf2 logs each missing glyph with the character itself: silenced while certificates render."""
    from fpdf import FPDF

    from tasks.certificates.typefaces import FONT_DIR, PRIMARY, quiet_fonts

    caplog.set_level(logging.DEBUG)
    with quiet_fonts():
        pdf = FPDF()
        pdf.add_font("NotoSans", "", str(FONT_DIR / PRIMARY))
        pdf.add_page()
        pdf.set_font("NotoSans", size=12)
        pdf.cell(text="Secret 王")  # 王 is not in Noto Sans: fpdf2 would log it
        pdf.output()
    assert "王" not in caplog.text and "Secret" not in caplog.text
    out, err = capfd.readouterr()
    assert "王" not in out + err
    # and the loggers are restored afterwards
    assert not logging.getLogger("fpdf").disabled


def test_the_monitor_does_not_issue_an_unprintable_certificate_and_tells_the_team_once(las, drs_env, caplog):
    from models.db import Certificate
    from tasks.db import unit_of_work
    from tasks.deadlines.job import run
    from tests.monitor_cases import at

    caplog.set_level(logging.DEBUG)
    ref = _case_named("Sam Example-Parent", "Kim \U000f0000Example")  # plane-15 private use
    first = run(date(2026, 11, 25), at(date(2026, 11, 25), 6, 45)).as_dict()
    assert first["certificates_issued"] == [] and len(first["certificate_errors"]) == 1
    assert ref in first["certificate_errors"][0] and "Child or young person" in first["certificate_errors"][0]
    second = run(date(2026, 11, 26), at(date(2026, 11, 26), 6, 45)).as_dict()
    assert second["certificates_issued"] == [] and len(second["certificate_errors"]) == 1
    with unit_of_work() as db:
        assert db.scalars(select(Certificate)).all() == []
    rows = outbox_rows()
    assert not [k for k, *_ in rows if k.startswith("certificate:")]
    assert len([k for k, *_ in rows if k.startswith("certificate-not-printable")]) == 1
    assert "Kim" not in caplog.text and "Kim" not in " ".join(first["certificate_errors"])
