"""The `drs` command line. Sub-commands load lazily so that `drs --help` and the commands that
do not run a flow start fast (no Prefect import)."""

from __future__ import annotations

import importlib
import sys

import click

from cli.recorded import exit_fast
from models.errors import UserError

#: command name -> ("module:attribute" of its click command or group, one-line help)
COMMANDS = {
    "db": ("cli.db:db", "Create or migrate the database schema."),
    "demo": ("cli.demo:demo", "Load the fictional demo data set."),
    "la": ("cli.la:la", "The local-authority register: import, list."),
    "mediator": ("cli.mediator:mediator", "Register mediators."),
    "case": ("cli.case:case", "Cases: list, show with clocks, record events."),
    "intake": ("cli.intake:intake", "Run referral intake over inbox files."),
    "mail": ("cli.mail:mail", "The email outbox: deliver now, retry failed emails."),
    "monitor": ("cli.monitor:monitor", "Deadline monitoring now (alerts, digest, certificates)."),
    "certificate": ("cli.certificate:certificate", "Issue a mediation certificate."),
    "session": ("cli.session:session", "Mediation meetings: schedule, reschedule, cancel, outcome."),
    "remind": ("cli.session:remind", "Session reminders now."),
    "claims": ("cli.claims:claims", "Expense claims: import, route to LAs, record payments."),
    "report": ("cli.report:report", "The monthly Excel report."),
    "serve": ("cli.serve:serve", "Serve every deployment on its schedule."),
    "worker": ("cli.worker:worker", "Worker path: `drs worker tasks` serves the background tasks only."),
    "retention": ("cli.retention:retention", "Anonymise long-closed cases now (--dry-run lists them)."),
    "audit": ("cli.audit:audit", "Read the audit trail (who did what, when)."),
    "subject-access": ("cli.subject_access:subject_access", "Export everything held about an email address."),
}


class LazyGroup(click.Group):
    """Loads a sub-command's module only when that command runs; help comes from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target[0].split(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an error it raises is judged by its type (models/errors.py), never by
        its text: a `UserError` (wrong input, unknown name, refused action) becomes one line on
        stderr and exit 2. Anything else goes on up: `main` says it in one line and exits 1."""
        from cli.common import InputError

        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except UserError as exc:
            raise InputError(str(exc)) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def drs() -> None:
    """drs-flows: SEND mediation casework, deadlines, reminders, claims and reports."""
    from tasks.settings import get_settings

    get_settings()  # every setting is checked before any command does anything (SettingsError: exit 2)


@exit_fast
def main() -> None:
    """Console entry point: one line on stderr for every error. Exit 2 for click's usage errors and
    a `UserError` (models/errors.py); exit 1 for an `InternalError` or anything unforeseen."""
    try:
        code = drs.main(prog_name="drs", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as exc:
        message = exc.format_message().replace("\n", " ")
        click.echo(f"drs: error: {message}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except UserError as exc:  # raised outside a command's own run (e.g. while loading it)
        click.echo(f"drs: error: {_one_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # an InternalError or anything unforeseen: one line, no traceback
        click.echo(f"drs: error: {_plain(exc)}", err=True)
        sys.exit(1)
    sys.exit(code or 0)


def _one_line(exc: Exception) -> str:
    return str(exc).replace("\n", " ")


def _plain(exc: Exception) -> str:
    """One line saying what went wrong, with the fix for the common set-up mistakes."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return "the database has no tables yet: run `drs db upgrade` first"
    if type(exc).__name__ == "OperationalError":
        return f"the database could not be used ({text[:200]}); check DRS_DATABASE_URL"
    return f"{type(exc).__name__}: {text[:300]}"


if __name__ == "__main__":
    main()
