"""The certificate font check (issue #12 §3) over any text: either every character it keeps has a
font that draws it, or it refuses with a message that never quotes the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.certificates.typefaces import UndrawableText, font_for, plan_fonts


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_any_text_is_either_fully_drawable_or_refused_without_quoting_it(text):
    try:
        plan = plan_fonts({"Parent or young person": text})
    except UndrawableText as exc:
        message = str(exc)
        assert "Parent or young person" in message
        assert not any(ch in message for ch in text if ord(ch) > 0x7F and not ch.isspace())
        return
    drawn = plan.fields["Parent or young person"]
    assert all(font_for(ord(ch)) in plan.fonts for ch in drawn)
