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

What the CLI does
-----------------
`cli.main.LazyGroup.invoke` decides by type, never by the message's text: a `UserError` becomes
one line on stderr, `drs: error: <message>`, and exit status 2 (the same as a bad option). An
`InternalError` — or any exception that is not ours — goes up to `cli.main.main`, which prints one
line (never a traceback: it may hold personal data) and exits 1. A command that wants another
wording for an internal error catches it itself (`drs mail bounces`: `drs: <message>`, exit 1).
An admin flow (`flows.hooks.refusal_fails_run`) ends its run Failed with "refused: <message>"
for a `UserError`; anything else crashes the run and the team is emailed.

Messages are one line, say what to do, and never quote personal data (a case reference, a field
name and the kind of problem, not the value).

The classes, where they live and when they are raised
-----------------------------------------------------
InvalidInput (exit 2):
  - `models.domain.fields.FieldError` — a field refused by the shared field rules (`field`, `reason`).
  - `models.domain.sessions.BookingError` — a booking that breaks a rule (clash, end before start).
  - `tasks.settings.SettingsError` — a `DRS_*` setting that cannot be used (checked before any command).
  - `tasks.timekeeping.DateWindowError` — `--today`/`--now` outside 2000-01-01 … 2100-12-31.
  - `tasks.intake.inbox.UnreadableFile` — an inbox file that cannot be read as records at all.
  - `tasks.intake.referral_intake.IntakeInputError` — a path given to `drs intake` that is missing.
  - `tasks.claims.files.ClaimFileError` — a claims file that cannot be read at all.
  - `tasks.claims.claims_in.ClaimError` — a decision on a claim that cannot be made.
  - `tasks.cases.store.CaseworkError` — an unknown case, an event or date that cannot be;
    its subclass `tasks.certificates.issue.CertificateError`: no certificate can be issued.
  - `tasks.cases.register_file.RegistryError` — a bad line in the LA register or a bad mediator.
  - `tasks.sessions.requests.SessionError` — a meeting request the rules or the data refuse.
  - `tasks.certificates.typefaces.UndrawableText` — a character no embedded font can draw.
  - `tasks.reporting.monthly.ReportError` — a month that cannot be reported.
  - `cli.common.InputError` — an option the CLI itself refuses (also a `click.ClickException`).
NotFound (exit 2):
  - `tasks.mail.failures.UnknownEmails` — `drs mail retry` keys that match no outbox row.
  - `flows.deployments.FlowNotAvailable` — a deployment whose module holds no flow of that name.
Refused (exit 2):
  - `tasks.privacy.retention.OnHoldError` — the case is on legal hold (also a `CaseworkError`).
InternalError (exit 1):
  - `tasks.mail.mailer.DeliveryError` — the mail server did not accept a message.
  - `tasks.bounces.sources.BounceMailboxError` — the bounce mailbox cannot be read.
  - `tasks.claims.routing.ClaimsChanged` — another run batched the claims first; rolled back,
    safe to retry (also a `RuntimeError`).

A new error class subclasses the leaf that says what the caller can do about it, so a caller
catches the class it can act on (`except NotFound`) and the CLI needs no new code.
"""

from __future__ import annotations

from typing import ClassVar


class DrsError(Exception):
    """The base of every error drs raises on purpose."""


class UserError(DrsError):
    """The request or its input is wrong: the person can put it right (CLI exit 2)."""

    exit_code: ClassVar[int] = 2


class InvalidInput(UserError, ValueError):
    """A field, a date, a file or a setting that cannot be used."""


class NotFound(UserError, LookupError):
    """No such case, session, claim, email or local authority."""


class Refused(UserError):
    """Understood, but not allowed now (a legal hold, already issued, already concluded)."""


class InternalError(DrsError):
    """Something on our side failed: a server, the file system, a bug (CLI exit 1)."""

    exit_code: ClassVar[int] = 1
