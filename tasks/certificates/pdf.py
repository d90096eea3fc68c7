"""The certificate as a PDF (fpdf2): what it says, in order (`certificate_blocks`), the check that
every character can be drawn before anything is written (`check_drawable`), and the page itself
(`render_pdf`). Names in any script are drawn with the embedded Noto fonts
(`tasks.certificates.typefaces`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from models.db import Case
from models.domain.certificates import DECISIONS
from tasks.mail.layout import SERVICE_NAME, long_date

if TYPE_CHECKING:
    from fpdf import FPDF


def certificate_blocks(
    *, number: str, case: Case, cert_type: str, issued_on: date, adviser: str, text
) -> list[tuple[str, str, str]]:
    """What the certificate says, in order: (key, kind, text); kind is a layout style."""
    decision_words = DECISIONS.get(case.decision_type or "", case.decision_type or "not recorded")
    letter = long_date(case.decision_letter_sent_on) if case.decision_letter_sent_on else "not recorded"
    blocks = [
        ("service", "small", SERVICE_NAME),
        ("heading", "h1", "Mediation certificate"),
        ("title", "h2", text.title),
    ]
    rows = [
        ("Certificate number", number),
        ("Date of issue", long_date(issued_on)),
        ("Type", cert_type),
        ("Our reference", case.ref),
        ("Parent or young person", case.requester_name or "not recorded"),
        ("Child or young person", case.child_name or "not recorded"),
        ("Local authority", case.local_authority.name),
        ("Decision", f"{decision_words[:1].upper()}{decision_words[1:]}"),
        ("Date of the decision letter", letter),
        ("Mediation adviser", adviser),
    ]
    for label, value in rows:
        blocks += [(f"label:{label}", "label", label), (label, "value", value)]
    for heading, body in (
        ("What happened", f"{text.decision} {text.statement}"),
        ("What this means for your appeal deadline", text.appeal_meaning),
        ("Legal basis", text.legal_basis),
    ):
        blocks += [(f"heading:{heading}", "h3", heading), (f"body:{heading}", "body", body)]
    blocks.append(("closing", "closing", f"Issued by {adviser}, for the {SERVICE_NAME}, on {long_date(issued_on)}."))
    return blocks


def check_drawable(case: Case, **layout) -> None:
    """Raise `CertificateError` (case reference and field only) when any character of the
    certificate cannot be drawn by the embedded fonts."""
    from tasks.certificates.issue import CertificateError
    from tasks.certificates.typefaces import UndrawableText, plan_fonts

    try:
        plan_fonts({key: value for key, _, value in certificate_blocks(case=case, **layout)})
    except UndrawableText as exc:
        raise CertificateError(
            f"{case.ref}: the certificate cannot be printed: {exc}; nothing was issued or "
            "sent (correct the name on the case, or issue this certificate by hand)"
        ) from None


def render_pdf(
    *, number: str, case: Case, cert_type: str, trigger_on: date, issued_on: date, adviser: str, text
) -> bytes:
    """The certificate as PDF bytes (A4, one page): service, adviser, family, LA, decision, type,
    number, date of issue, and what it means for the appeal deadline.

    Every character is drawn with an embedded Noto font (`tasks.certificates.typefaces`), right-to-left
    and complex scripts shaped by HarfBuzz. Raises `CertificateError` when a character cannot be
    drawn (checked before rendering, and again on the fonts' own record after): never a blank.
    The font libraries' logs and warnings are silenced while rendering (they would carry names).
    """
    from fpdf.fonts import TTFFont

    from tasks.certificates.issue import CertificateError
    from tasks.certificates.typefaces import UndrawableText, plan_fonts, quiet_fonts

    blocks = certificate_blocks(
        number=number, case=case, cert_type=cert_type, issued_on=issued_on, adviser=adviser, text=text
    )
    try:
        plan = plan_fonts({key: value for key, _, value in blocks})
    except UndrawableText as exc:
        raise CertificateError(f"{case.ref}: the certificate cannot be printed: {exc}") from None
    with quiet_fonts():
        pdf = _new_document(number, issued_on, plan.fonts)
        _draw(pdf, blocks, plan.fields, font=Path(plan.fonts[0]).stem)
        data = bytes(pdf.output())
    if any(isinstance(f, TTFFont) and f.missing_glyphs for f in pdf.fonts.values()):
        raise CertificateError(
            f"{case.ref}: the certificate cannot be printed: a character has no glyph in the certificate fonts"
        )
    return data


def _new_document(number: str, issued_on: date, fonts: Sequence[str]) -> FPDF:
    """An A4 page with the certificate's metadata and its fonts (the first is the main one)."""
    from fpdf import FPDF

    from tasks.certificates.typefaces import FONT_DIR

    pdf = FPDF(format="A4")
    pdf.set_title(f"Mediation certificate {number}")
    pdf.set_author(SERVICE_NAME)
    pdf.set_creation_date(datetime.combine(issued_on, time(12, 0), tzinfo=ZoneInfo("UTC")))
    pdf.set_margins(20, 20, 20)
    for filename in fonts:
        pdf.add_font(Path(filename).stem, "", str(FONT_DIR / filename))
    pdf.set_fallback_fonts([Path(f).stem for f in fonts[1:]], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.add_page()
    return pdf


#: Layout style -> (font size, line height, space after).
STYLES = {
    "small": (11, 6, 2),
    "h1": (18, 9, 0),
    "h2": (13, 7, 4),
    "h3": (13, 8, 0),
    "body": (11, 6, 3),
    "closing": (11, 6, 0),
}


def _draw(pdf: FPDF, blocks: list[tuple[str, str, str]], fields: dict[str, str], font: str) -> None:
    """Each block in order: labels and values side by side, headings and text full width."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for key, kind, _ in blocks:
        value = fields[key]
        if kind == "label":
            pdf.set_font(font, size=11)
            pdf.multi_cell(60, 7, value, new_x="RIGHT", new_y="TOP")
            continue
        if kind == "value":
            pdf.multi_cell(width - 60, 7, value, new_x="LMARGIN", new_y="NEXT")
            if key == "Mediation adviser":
                pdf.ln(4)
            continue
        size, height, after = STYLES[kind]
        if kind == "closing":
            pdf.ln(4)
        pdf.set_font(font, size=size)
        pdf.multi_cell(width, height, value, new_x="LMARGIN", new_y="NEXT")
        if after:
            pdf.ln(after)
