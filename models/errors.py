"""Every error drs raises on purpose, in one tree (documented like httpx's exceptions).

    DrsError
    ├── UserError            the request or its input is wrong; the person can put it right.
    │   │                    The CLI prints one line and exits 2.
    │   ├── InvalidInput     a field, a date, a file or a setting that cannot be used (also a ValueError)
    │   ├── NotFound         no such case, session, claim, email or LA (also a LookupError)
    │   └── Refused          understood, but not allowed now: a legal hold, a certificate already
    │                        issued, a session already concluded
    └── InternalError        something on our side failed (a server, a file system, a bug).
                             The CLI prints one line and exits 1.

The CLI chooses its exit code by the type of the error, never by its text. Every module raises
a subclass of one of these leaves (for example `tasks.sessions.meetings.SessionError` is an
`InvalidInput`), so a caller catches the class it can act on.
"""

from __future__ import annotations


class DrsError(Exception):
    """The base of every error drs raises on purpose."""


class UserError(DrsError):
    """The request or its input is wrong: the person can put it right (CLI exit 2)."""

    exit_code = 2


class InvalidInput(UserError, ValueError):
    """A field, a date, a file or a setting that cannot be used."""


class NotFound(UserError, LookupError):
    """No such case, session, claim, email or local authority."""


class Refused(UserError):
    """Understood, but not allowed now (a legal hold, already issued, already concluded)."""


class InternalError(DrsError):
    """Something on our side failed: a server, the file system, a bug (CLI exit 1)."""

    exit_code = 1
