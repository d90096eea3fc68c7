"""The one look every email shares: plain, kind, GOV.UK-style English, HTML with a plain-text part.

`render_email(heading, paragraphs, ...)` returns (text, html). Paragraphs are plain text
(escaped for HTML); a paragraph that is a list or tuple becomes a bulleted list; `key_dates`
becomes a two-column table. Personal data may appear in bodies (the recipient's own case),
never in subjects.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from html import escape as _escape

SERVICE_NAME = "SEND Mediation and Disagreement Resolution Service"
SIGN_OFF = "The mediation team"
FOOTER = (
    "We are independent of your local authority. Our service is free to parents, carers and "
    "young people. Office hours: Monday to Friday, 9am to 5pm."
)

Paragraph = str | Sequence[str]


def render_email(
    heading: str,
    paragraphs: Sequence[Paragraph],
    *,
    greeting: str | None = "Hello,",
    key_dates: Sequence[tuple[str, str]] = (),
    sign_off: str = SIGN_OFF,
    footer: str | None = FOOTER,
) -> tuple[str, str]:
    """(plain text, HTML) for one message."""
    text: list[str] = []
    html: list[str] = [
        '<!doctype html><html lang="en-GB"><body style="font-family: Arial, sans-serif; font-size: 19px; '
        'line-height: 1.4; color: #0b0c0c; max-width: 640px">',
        f'<h1 style="font-size: 27px">{escape(heading)}</h1>',
    ]
    if greeting:
        text += [greeting, ""]
        html.append(f"<p>{escape(greeting)}</p>")
    for para in paragraphs:
        if isinstance(para, str):
            text += [para, ""]
            html.append(f"<p>{escape(para)}</p>")
        else:
            text += [f"- {item}" for item in para] + [""]
            html.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in para) + "</ul>")
    if key_dates:
        text.append("Key dates:")
        text += [f"- {label}: {value}" for label, value in key_dates] + [""]
        rows = "".join(
            f'<tr><th scope="row" style="text-align:left;padding-right:1em">{escape(label)}</th>'
            f"<td>{escape(value)}</td></tr>"
            for label, value in key_dates
        )
        html.append(f"<table>{rows}</table>")
    text += [sign_off, SERVICE_NAME]
    html.append(f"<p>{escape(sign_off)}<br>{escape(SERVICE_NAME)}</p>")
    if footer:
        text += ["", footer]
        html.append(f'<p style="font-size: 16px; color: #505a5f">{escape(footer)}</p>')
    html.append("</body></html>")
    return "\n".join(text) + "\n", "\n".join(html) + "\n"


@lru_cache(maxsize=4096)  # the same few hundred dates, over and over in a batch of emails
def long_date(d) -> str:
    """'Thursday 24 April 2025' — how dates are written to families."""
    return f"{d:%A} {d.day} {d:%B %Y}"


@lru_cache(maxsize=4096)  # the fixed sentences of every template, escaped once
def escape(text: str) -> str:
    return _escape(text)
