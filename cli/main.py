"""The `drs` command line. Sub-commands load lazily so that `drs --help` and the commands that
do not run a flow start fast (no Prefect import)."""
from __future__ import annotations

import importlib
import sys

import click

#: command name -> "module:attribute" of its click command or group
COMMANDS = {
    "db": "cli.db:db",
    "demo": "cli.demo:demo",
    "la": "cli.la:la",
    "mediator": "cli.mediator:mediator",
    "case": "cli.case:case",
    "intake": "cli.intake:intake",
    "mail": "cli.mail:mail",
    "monitor": "cli.monitor:monitor",
    "certificate": "cli.certificate:certificate",
    "session": "cli.session:session",
    "remind": "cli.session:remind",
    "claims": "cli.claims:claims",
    "report": "cli.report:report",
    "serve": "cli.serve:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def drs() -> None:
    """drs-flows: SEND mediation casework, deadlines, reminders, claims and reports."""


def main() -> None:
    """Console entry point: click's usage errors become one line on stderr, exit 2."""
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
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
