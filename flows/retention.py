"""retention — weekly (Sundays 04:30): anonymise the personal data of long-closed cases.

A case closed more than `models.domain.operations.RETENTION_MONTHS` months ago (24, the service's
policy) loses its personal data; figures, codes and references stay so reports still add up. See
`tasks/privacy/retention.py` for exactly what is removed; `tasks/privacy/file_retention.py` also deletes copies of
personal data on disk (imported files, .eml copies, claims workbooks) older than the period; cases
on legal hold and their files are kept. Publishes the markdown artifact `retention`
(counts and case references only).

Run it: `prefect deployment run retention/retention`, or in Python `retention(today=...)`.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.hooks import notify_team_of_failure
from models.domain.operations import RETENTION_MONTHS
from tasks.timekeeping import resolve_now


@task(cache_policy=NO_CACHE)
def anonymise_due_cases(today: date, now) -> dict:
    """Anonymise every case due for it on `today`; returns the summary (refs and counts)."""
    from tasks.privacy.retention import anonymise_closed_cases

    return anonymise_closed_cases(today, now).as_dict()


@task(cache_policy=NO_CACHE)
def remove_old_file_copies(today: date) -> dict:
    """Delete imported files, .eml copies and claims workbooks older than the retention period."""
    from tasks.privacy.file_retention import remove_old_copies

    return remove_old_copies(today).as_dict()


@flow(name="retention", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def retention(today: date | None = None) -> dict:
    """Anonymise the personal data of cases closed more than the retention period ago.

    Args:
        today: Run as if it were this day (default: today, Europe/London).
    """
    today, now = resolve_now(None, today)
    summary = anonymise_due_cases(today, now) | remove_old_file_copies(today)
    files = summary["files_removed"]
    refs = summary["refs"]
    shown = ", ".join(refs[:50]) + (f" … and {len(refs) - 50} more" if len(refs) > 50 else "")
    create_markdown_artifact(
        key="retention",
        description="Cases anonymised by the retention policy (references only)",
        markdown=(
            f"# Retention — {today:%d %B %Y}\n\n"
            f"Cases closed on or before {summary['closed_before']} ({RETENTION_MONTHS} months) are anonymised.\n\n"
            f"- cases anonymised now: {summary['cases']}{': ' + shown if refs else ''}\n"
            f"- emails cleared: {summary['emails']}; unsent emails cancelled: {summary['emails_cancelled']}; "
            f"attachments removed: {summary['attachments']}; meeting attendees cleared: {summary['attendees']}; "
            f"certificate PDFs removed: {summary['certificates']}; claims workbooks removed: {summary['claim_workbooks']}\n"
            f"- files of the anonymised cases deleted: {sum(summary['case_files'].values())}\n"
            f"- on legal hold, kept: {', '.join(summary['held']) or 'none'}\n"
            f"- claim payee details cleared: {summary['claims']}; kept until paid: {summary['claims_waiting_for_payment']}\n"
            f"- files last changed before {summary['files_older_than']} deleted: {sum(files.values())}"
            f"{' (' + ', '.join(f'{k}: {v}' for k, v in files.items()) + ')' if files else ''}\n"
            f"{''.join(f'- could not delete {e}' + chr(10) for e in summary['file_errors'] + summary['case_file_errors'])}"
        ),
    )
    return summary
