"""What a text field, an email address, a meeting link or a date may be — defined once.

Pure rules used at every door (referral and claim records, CLI options, admin forms):

- `text_problem(value, limit=..., single_line=...)` — a value-free reason why `value` is not
  acceptable text, or None. A JSON object or list where text is expected is refused (never
  `str(dict)`); NUL is refused everywhere (PostgreSQL cannot store it, so SQLite must not either);
  other control characters are refused, and CR/LF/TAB too in single-line fields; lone surrogates
  (not encodable as UTF-8) are refused; so are explicit direction overrides/embeddings/isolates
  and text with no visible character. Right-to-left marks, ZWJ and ZWNJ are text.
- `email_problem(address)` — a value-free reason why `address` is not an email address, or
  None. THE one check of email addresses (referrals, claimants, attendees, mediators, LA
  register rows, settings), built on the `email-validator` library with
  `check_deliverability=False`: syntax only, no network. This is the documented exception to
  "models/domain is stdlib only" (tests/unit/test_architecture.py): the library is pure (no
  I/O without deliverability checks), and one function here means no door can forget it.
- `url_problem(url)` — meeting links: `https://` with a valid host only.
- `date_problem(day)` — dates outside the sane window `EARLIEST`…`LATEST` (2000-01-01 to
  2100-12-31) are refused for `--today`/`--now`, event dates, session starts, claim session
  dates and referral dates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache

from models.errors import InvalidInput

#: Length limits, in characters.
NAME_MAX = 200
NOTE_MAX = 10_000
EMAIL_MAX = 254
URL_MAX = 2_000
LINE_MAX = 500  # a venue, access notes' one line, a description

#: The sane window for every date a person types or a file carries.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)

_MULTILINE_OK = {"\n", "\r", "\t"}
_LINE_BREAKS = {"\u2028", "\u2029", "\x85"}
#: Explicit embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder what a
#: reader sees (a name or a link shown backwards). The marks RLM/LRM/ALM and ZWJ/ZWNJ stay text.
_DIRECTION_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class FieldError(InvalidInput):
    """One field refused: `field` names it, `reason` says why without quoting the value."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = reason


def text_problem(value: object, *, limit: int = NAME_MAX, single_line: bool = True) -> str | None:
    """Why `value` is not acceptable text (value-free), or None. None and "" are acceptable
    (whether a field is required is the caller's rule). Judged after trimming surrounding
    whitespace (callers store the trimmed text)."""
    if type(value) is str:  # the usual case: none of the checks of other types below applies
        text = value.strip()  # surrounding whitespace is trimmed, not refused
    elif value is None:
        return None
    elif isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return "is a list or an object, not text"
    elif isinstance(value, (bytes, bytearray)):
        return "is not text"
    elif isinstance(value, bool):
        return None
    else:
        text = (value if isinstance(value, str) else str(value)).strip()
    if "\x00" in text:
        return "contains a NUL character"
    if len(text) > limit:
        return f"is too long (at most {limit} characters)"
    if text.isascii() and text.isprintable():
        # the common case, decided at C speed: only U+0020–U+007E (no control character, line
        # break or tab), and — trimmed, so not starting with a space — visible when not empty
        return None
    for ch in text:
        if ch in _MULTILINE_OK or ch in _LINE_BREAKS:
            if single_line:
                return "contains a line break or tab (one line only)"
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return "contains a control character"
        if category == "Cs":
            return "contains an invalid character"
        if ch in _DIRECTION_CONTROLS:
            return "contains a text-direction override (it can reorder or hide what is shown)"
    if text and not any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
        return "has no visible character"
    return None


def identifier_problem(value: str) -> str | None:
    """Why a record's identifier (form_id, claim_id) could pass for another one, or None: an
    invisible/format character ('F\u200b-1') or a compatibility look-alike (full-width 'Ｆ-1') would
    make the same form a second case instead of a duplicate or a conflict."""
    if any(unicodedata.category(ch) == "Cf" for ch in value):
        return "contains an invisible character"
    if unicodedata.normalize("NFKC", value) != value:
        return "contains look-alike characters (e.g. full-width letters); type it plainly"
    return None


def clean_text(value: object, field: str, *, limit: int = NAME_MAX, single_line: bool = True) -> str | None:
    """`value` trimmed (None when blank), or `FieldError` naming `field`."""
    problem = text_problem(value, limit=limit, single_line=single_line)
    if problem:
        raise FieldError(field, problem)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def email_problem(address: object) -> str | None:
    """Why `address` is not an email address (value-free), or None. Syntax only, no network."""
    if address is None or (isinstance(address, str) and not address.strip()):
        return "is missing"
    problem = text_problem(address, limit=EMAIL_MAX, single_line=True)
    if problem:
        return problem
    return _address_problem(str(address).strip())


#: The fast path of `_address_problem`: a local part email-validator accepts on sight (its own
#: `DOT_ATOM_TEXT`: RFC 5322 atext, dots only between atoms) and a domain of plain ASCII host
#: characters, judged once by the library itself.
_PLAIN_LOCAL = re.compile(
    r"[a-zA-Z0-9_!#\$%&\'\*\+\-/=\?\^`\{\|\}~]+(?:\.[a-zA-Z0-9_!#\$%&\'\*\+\-/=\?\^`\{\|\}~]+)*\Z"
)
_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+\Z")


def _address_problem(address: str) -> str | None:
    """email-validator's answer for `address`. A plain address (`local@domain`, the local part a
    dot-atom of ASCII atext, the domain ASCII letters, digits, dots and hyphens) is decided as the
    library decides it: such a local part is valid whatever its length (the library is not in
    strict mode), no display name or quoting can be present, so the address is valid exactly when
    its domain is and the whole address fits in 254 bytes — the domain judged by the library once
    (`_domain_problem`). Anything else goes to the library whole."""
    local, at, domain = address.partition("@")
    if at and _PLAIN_LOCAL.match(local) and _PLAIN_DOMAIN.match(domain):
        plain = _domain_problem(domain)
        if plain is not None:  # (problem or None,) — None: the library must see the whole address
            return plain[0] if plain[0] is not None or len(address) <= _EMAIL_BYTES else _library_problem(address)
    return _library_problem(address)


_EMAIL_BYTES = 254  # email-validator's EMAIL_MAX_LENGTH (ASCII here: characters are bytes)


@lru_cache(maxsize=4096)  # a drop's addresses share a few hundred domains
def _domain_problem(domain: str) -> tuple[str | None] | None:
    """The library's answer for a mailbox at `domain` (("…",) refused, (None,) valid), or None when
    the answer for a longer local part could differ (a domain whose normal or IDNA form has another
    length than as typed, e.g. Punycode: the length checks then see other strings)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        found = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return ("is not a valid email address",)
    if len(found.domain.encode()) != len(domain) or len(found.ascii_domain) != len(domain):
        return None
    return (None,)


@lru_cache(maxsize=1024)  # a family's address comes again on each of its forms (a drop holds many)
def _library_problem(address: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email  # here: the CLI's date parsing stays light

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return "is not a valid email address"
    return None


def is_email(address: object) -> bool:
    return email_problem(address) is None


def url_problem(url: object) -> str | None:
    """Why `url` is not an acceptable meeting link (`https://` and a valid host), or None."""
    from urllib.parse import urlsplit

    problem = text_problem(url, limit=URL_MAX, single_line=True)
    if problem:
        return problem
    text = str(url).strip()
    if any(ch.isspace() for ch in text):
        return "contains spaces"
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        return "is not a valid link"
    if parts.scheme.lower() != "https":
        return "must start with https://"
    host = parts.hostname or ""
    if parts.username or parts.password:
        return "must not carry a user name or password"
    if not _valid_host(host):
        return "does not name a valid host"
    if port == 0:
        return "is not a valid link"
    return None


def _valid_host(host: str) -> bool:
    if not host or len(host) > 253:
        return False
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    if len(labels) < 2:
        return False
    for label in labels:
        if not 1 <= len(label) <= 63 or label.startswith("-") or label.endswith("-"):
            return False
        if not all(c.isalnum() or c == "-" for c in label):
            return False
    return not labels[-1].isdigit() or all(p.isdigit() for p in labels)  # a dotted IP is fine


def date_problem(day: date | datetime | None) -> str | None:
    """Why `day` is outside the window EARLIEST…LATEST, or None."""
    if day is None:
        return None
    on = day.date() if isinstance(day, datetime) else day
    if on < EARLIEST or on > LATEST:
        return f"is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}"
    return None


def check_date(day: date | datetime | None, field: str) -> None:
    """`FieldError` when `day` is outside the window."""
    problem = date_problem(day)
    if problem:
        raise FieldError(field, problem)
