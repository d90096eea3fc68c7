"""Fonts for certificate PDFs: the embedded Noto fonts, which one draws each character, and the
check that every character of a certificate can be drawn *before* it is rendered.

The fonts ship with the project in `tasks/fonts/` (SIL Open Font License, `tasks/fonts/OFL.txt`;
how they were made: `tasks/fonts/build.py`): Noto Sans for Latin, Greek and Cyrillic, then one
Noto font per script families in England write (Arabic and Urdu, Hebrew, Devanagari, Bengali,
Gurmukhi, Gujarati, Tamil, Malayalam, Sinhala, Thai, Ethiopic, Armenian, Georgian, …), a subset
of Noto Sans CJK (Chinese, Japanese kana, Korean Hangul), Noto Sans Math (mathematical letters),
monochrome Noto Emoji and the Noto symbol fonts. Nothing is downloaded at run time.

`plan_fonts(fields)` returns the fields as they will be drawn (NFC; line breaks in one-line
fields become spaces; invisible format characters that no font carries are dropped) and the font
files needed, or raises `UndrawableText` naming the field and the *kind* of character (never the
text itself: it is a family's name). `quiet_fonts()` silences the font libraries' loggers and
warnings while a PDF is made, because fpdf2 logs missing glyphs with the characters themselves.
"""

from __future__ import annotations

import logging
import unicodedata
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from models.errors import InvalidInput

FONT_DIR = Path(__file__).with_name("fonts")
PRIMARY = "NotoSans-Regular.ttf"
#: tried in this order for a character the primary font lacks (fpdf2's fallback fonts)
FALLBACKS = (
    "NotoSansArabic-Regular.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansDevanagari-Regular.ttf",
    "NotoSansBengali-Regular.ttf",
    "NotoSansGurmukhi-Regular.ttf",
    "NotoSansGujarati-Regular.ttf",
    "NotoSansTamil-Regular.ttf",
    "NotoSansTelugu-Regular.ttf",
    "NotoSansKannada-Regular.ttf",
    "NotoSansMalayalam-Regular.ttf",
    "NotoSansSinhala-Regular.ttf",
    "NotoSansOriya-Regular.ttf",
    "NotoSansThai-Regular.ttf",
    "NotoSansLao-Regular.ttf",
    "NotoSansKhmer-Regular.ttf",
    "NotoSansMyanmar-Regular.ttf",
    "NotoSansArmenian-Regular.ttf",
    "NotoSansGeorgian-Regular.ttf",
    "NotoSansEthiopic-Regular.ttf",
    "NotoSansSyriac-Regular.ttf",
    "NotoSansThaana-Regular.ttf",
    "NotoSansNKo-Regular.ttf",
    "NotoSansAdlam-Regular.ttf",
    "NotoSansTifinagh-Regular.ttf",
    "NotoSansCJKsc-Regular-subset.ttf",
    "NotoSansMath-Regular.ttf",
    "NotoEmoji-Regular.ttf",
    "NotoSansSymbols-Regular.ttf",
    "NotoSansSymbols2-Regular.ttf",
)
#: loggers that may print the text being drawn (fpdf2's missing-glyph warning, fontTools' subsetter)
FONT_LOGGERS = ("fpdf", "fontTools")
_NEVER_DRAWN = frozenset({"Cc", "Cs", "Co"})
_LINE_BREAKS = {"\n", "\r", "\t", "\v", "\f", "\x85", "\u2028", "\u2029"}


class UndrawableText(InvalidInput):
    """A character no embedded font can draw; the message names the field, never the text."""


@dataclass(frozen=True)
class FontPlan:
    fields: dict[str, str]  # label -> the text as it will be drawn
    fonts: tuple[str, ...]  # font files needed, the primary first


@cache
def font_cmap(filename: str) -> frozenset[int]:
    """The code points font `filename` (in `FONT_DIR`) has a glyph for (read once per process)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONT_DIR / filename), lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def font_for(code_point: int) -> str | None:
    """The first font (primary, then the fallbacks in order) that draws `code_point`, or None."""
    for filename in (PRIMARY, *FALLBACKS):
        if code_point in font_cmap(filename):
            return filename
    return None


def _invisible(ch: str) -> bool:
    """Format characters and variation selectors that draw nothing (safe to drop when no font has them)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or 0x180B <= cp <= 0x180F
    )


def _kind(ch: str) -> str:
    """What sort of character it is, in words that do not give the text away."""
    category = unicodedata.category(ch)
    kinds = {
        "Co": "a private-use character",
        "Cn": "an unassigned code point",
        "Cc": "a control character",
        "Cs": "a broken (surrogate) character",
    }
    if category in kinds:
        return kinds[category]
    name = unicodedata.name(ch, "")
    return f"a character of the {name.split()[0].title()} kind" if name else "an unknown character"


def prepare(text: str, *, one_line: bool = True) -> str:
    """`text` as it will be drawn: NFC, line breaks and tabs as spaces in a one-line field."""
    text = unicodedata.normalize("NFC", text)
    if one_line:
        text = "".join(" " if ch in _LINE_BREAKS else ch for ch in text)
    return text


def plan_fonts(fields: Mapping[str, str], *, multi_line: frozenset[str] = frozenset()) -> FontPlan:
    """Check every character of `fields` (label -> text) can be drawn; return what to draw with.

    Raises `UndrawableText` for the first field with characters no embedded font draws.
    """
    needed: list[str] = [PRIMARY]
    drawn: dict[str, str] = {}
    for label, raw in fields.items():
        text = prepare(raw or "", one_line=label not in multi_line)
        kept, bad = [], []
        for ch in text:
            if ch == "\n":
                kept.append(ch)
                continue
            # controls, surrogates and private-use characters have no agreed look: never drawn,
            # even where a font happens to map one (an unassigned code point counts only when no
            # font has it, since fonts may know characters newer than this Python's Unicode)
            font = None if unicodedata.category(ch) in _NEVER_DRAWN else font_for(ord(ch))
            if font is None:
                if not _invisible(ch):
                    bad.append(ch)
                continue
            if font not in needed:
                needed.append(font)
            kept.append(ch)
        if bad:
            kinds = sorted({_kind(ch) for ch in bad})
            raise UndrawableText(
                f"the field '{label}' has {len(bad)} character(s) that no certificate font can "
                f"draw ({', '.join(kinds)})"
            )
        drawn[label] = "".join(kept)
    return FontPlan(fields=drawn, fonts=tuple(needed))


@contextmanager
def quiet_fonts() -> Iterator[None]:
    """Silence the font libraries' loggers and warnings (they may print a family's name)."""
    loggers = [logging.getLogger(name) for name in FONT_LOGGERS]
    saved = [(lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
        lg.propagate = False
        lg.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, (level, propagate, disabled) in zip(loggers, saved):
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled
