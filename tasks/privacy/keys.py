"""Outbox keys and file names hold no personal data: an address becomes a short hash.

`address_token("family@example.org")` → `a-<16 hex digits>` (SHA-256 of the trimmed, lower-cased
address). The same address always gives the same token, so a key built with it stays idempotent;
migration 0014 rewrote the keys of existing rows the same way.
"""

from __future__ import annotations

import hashlib


def address_token(address: str) -> str:
    """A stable, non-reversible stand-in for an email address inside a key or a file name."""
    return "a-" + hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:16]
