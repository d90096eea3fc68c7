"""`email_problem`'s fast path (plain local part, plain ASCII domain judged once) gives exactly
email-validator's answer on the whole address — checked on many generated addresses, awkward ones
included (issue 14: intake speed with behaviour identical)."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT

from models.domain import fields
from models.domain.fields import _address_problem, email_problem

_LOCAL_CHARS = "abcxyzABZ0189._-+!#$%&'*/=?^`{|}~\"(),:;<>@[\\] é\u00a0\u200b"
_DOMAIN_CHARS = "abcxyzAZ019.-_é@[] "
_DOMAINS = (
    "example.com", "EXAMPLE.CO.UK", "gmail.com", "la.gov.uk", "localhost", "local", "test", "invalid", "a.test",
    "x.local", "foo.onion", "b.arpa", "123.45", "1.2.3.4", "sub-domain.example.org", "-bad.com", "bad-.com",
    "a..b.com", ".a.com", "a.com.", "com", "xn--bcher-kva.de", "xn--ab.com", "ab--cd.com", "xn--80ak6aa92e.com",
    "a" * 63 + ".com", "a" * 64 + ".com", ("b" * 60 + ".") * 4 + "uk", ("c" * 61 + ".") * 4 + "uk", "ex_ample.com",
    "e.x", "e.1x", "e.x1", "d.co", "[1.2.3.4]", "münchen.de", "例え.jp",
)  # fmt: skip


def _library(address: str) -> str | None:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return "is not a valid email address"
    return None


def _addresses(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        shape = rng.random()
        local_len = rng.choice((1, 2, 5, 12, 40, 64, 65, 100, 180))
        if shape < 0.5:  # mostly plain local parts, now and then an odd character
            local = "".join(rng.choice("abcdefXYZ0123.+_-") for _ in range(local_len))
        else:
            local = "".join(rng.choice(_LOCAL_CHARS) for _ in range(local_len))
        if rng.random() < 0.6:
            domain = rng.choice(_DOMAINS)
        else:
            domain = ".".join(
                "".join(rng.choice(_DOMAIN_CHARS) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 4))
            )
        at = rng.choice(("@", "@", "@", "@@", "", "＠"))
        out.append(f"{local}{at}{domain}")
    return out


def test_the_local_part_rule_is_the_librarys() -> None:
    assert fields._PLAIN_LOCAL.pattern == DOT_ATOM_TEXT.pattern


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_gives_the_librarys_answer(seed: int) -> None:
    fields._domain_problem.cache_clear()
    for address in _addresses(5_000, seed):
        assert _address_problem(address) == _library(address), address


def test_lengths_at_the_edges() -> None:
    for domain in ("example.com", "xn--bcher-kva.de", "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".uk"):
        for local_len in range(1, 256, 7):
            address = "a" * local_len + "@" + domain
            assert _address_problem(address) == _library(address), (local_len, domain)
            stripped = address.strip()
            assert email_problem(address) == (fields.text_problem(stripped, limit=254) or _library(stripped))
