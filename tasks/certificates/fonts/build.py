"""Rebuild the certificate fonts in this folder (maintainers only; nothing runs this at run time).

The fonts are the Noto families (SIL Open Font License 1.1, see OFL.txt), taken unmodified from
Debian's `fonts-noto-core` (per-script sans fonts, maths, symbols), subset from `fonts-noto-cjk`
(Noto Sans CJK SC: the CJK ideographs, kana, Hangul and punctuation only, to keep the repository
small; converted to TrueType outlines, which fpdf2 embeds in the form every PDF reader extracts),
and a static regular (weight 400) instance of the variable monochrome Noto Emoji from the
`manimgx-fonts` wheel on PyPI. How to rebuild:

    apt-get download fonts-noto-core fonts-noto-cjk && for d in *.deb; do dpkg-deb -x "$d" x; done
    pip download --no-deps -d w manimgx-fonts && unzip -q w/*.whl -d w
    python tasks/fonts/build.py x w tasks/fonts
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

#: per-script fonts copied unmodified from fonts-noto-core
NOTO_CORE = (
    "NotoSans-Regular.ttf",  # Latin, Greek, Cyrillic, Vietnamese, IPA
    "NotoSansArabic-Regular.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansSyriac-Regular.ttf",
    "NotoSansThaana-Regular.ttf",
    "NotoSansNKo-Regular.ttf",
    "NotoSansAdlam-Regular.ttf",
    "NotoSansDevanagari-Regular.ttf",
    "NotoSansBengali-Regular.ttf",
    "NotoSansGurmukhi-Regular.ttf",
    "NotoSansGujarati-Regular.ttf",
    "NotoSansOriya-Regular.ttf",
    "NotoSansTamil-Regular.ttf",
    "NotoSansTelugu-Regular.ttf",
    "NotoSansKannada-Regular.ttf",
    "NotoSansMalayalam-Regular.ttf",
    "NotoSansSinhala-Regular.ttf",
    "NotoSansThai-Regular.ttf",
    "NotoSansLao-Regular.ttf",
    "NotoSansKhmer-Regular.ttf",
    "NotoSansMyanmar-Regular.ttf",
    "NotoSansArmenian-Regular.ttf",
    "NotoSansGeorgian-Regular.ttf",
    "NotoSansEthiopic-Regular.ttf",
    "NotoSansTifinagh-Regular.ttf",
    "NotoSansMath-Regular.ttf",
    "NotoSansSymbols-Regular.ttf",
    "NotoSansSymbols2-Regular.ttf",
)
CJK_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
    (0x3100, 0x31FF),  # bopomofo, Hangul compatibility jamo, kanbun, strokes, katakana extension
    (0x3200, 0x33FF),  # enclosed CJK, compatibility
    (0x3400, 0x4DBF),  # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0x1100, 0x11FF),  # Hangul jamo
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half- and full-width forms
)


def build(debian_root: Path, wheel_root: Path, out: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont
    from fontTools.varLib import instancer

    core = debian_root / "usr/share/fonts/truetype/noto"
    for name in NOTO_CORE:
        shutil.copyfile(core / name, out / name)

    collection = TTCollection(str(debian_root / "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
    sc = next(f for f in collection.fonts if f["name"].getDebugName(4) == "Noto Sans CJK SC")
    cmap = sc.getBestCmap()
    wanted = [c for lo, hi in CJK_RANGES for c in range(lo, hi + 1) if c in cmap]
    # no layout features: horizontal CJK needs none, and `locl` would pull in the JP/KR/TC glyph variants
    options = subset.Options(layout_features=[], name_IDs=["*"], notdef_outline=True, hinting=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(sc)
    _cff_to_glyf(sc)  # fpdf2 embeds TrueType outlines as a standard CIDFontType2 that every reader extracts
    sc.save(str(out / "NotoSansCJKsc-Regular-subset.ttf"))

    emoji = TTFont(str(next(wheel_root.rglob("NotoEmoji*.ttf"))))
    static = instancer.instantiateVariableFont(emoji, {"wght": 400})
    static.save(str(out / "NotoEmoji-Regular.ttf"))


def _cff_to_glyf(font) -> None:
    """Convert a CFF-flavoured font to TrueType (quadratic) outlines in place (fontTools' otf2ttf recipe)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxComponentDepth",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 1
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font.sfntVersion = "\000\001\000\000"


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
