"""The retention job: one orchestrator, run by the weekly `retention` flow and by `drs retention`.

    summary = run(today, now, step=flows.steps.as_task)   # the flow: each step a Prefect task
    summary = run(today, now)                             # `drs retention` with no server reachable

Two steps: anonymise every case closed more than `RETENTION_MONTHS` ago and not on legal hold
(`tasks.privacy.retention.anonymise_closed_cases`), then delete the copies of personal data on
disk older than the period (`tasks.privacy.file_retention.remove_old_copies`). The summary holds
references and counts only; `as_dict()` is the `drs retention --json` document and the flow's
return value. The flow also publishes the markdown artifact `retention` (`artifact_markdown`);
the direct path names it in `skipped`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.domain.operations import RETENTION_MONTHS
from tasks.privacy.file_retention import remove_old_copies
from tasks.privacy.retention import anonymise_closed_cases
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

#: What only the Prefect flow does (the direct path skips it and says so).
FLOW_ONLY = ("dashboard artifact 'retention'",)


@dataclass(frozen=True)
class RetentionSummary:
    """What one retention run did: references and counts only (no personal data)."""

    closed_before: str
    cases: int
    emails: int
    emails_cancelled: int
    attachments: int
    attendees: int
    certificates: int
    claims: int
    claims_waiting_for_payment: int
    claim_workbooks: int
    case_files: Mapping[str, int]
    case_file_errors: tuple[str, ...]
    held: tuple[str, ...]
    refs: tuple[str, ...]
    files_older_than: str
    files_removed: Mapping[str, int]
    file_errors: tuple[str, ...]
    skipped: tuple[str, ...] = field(default=())

    @classmethod
    def from_parts(cls, parts: Mapping[str, Any], skipped: tuple[str, ...] = ()) -> RetentionSummary:
        """From the two steps' dictionaries, merged (the keys of `as_dict`)."""
        values: dict[str, Any] = dict(parts)
        values.update({k: tuple(parts[k] or ()) for k in _SEQUENCES})
        values.update({k: dict(parts[k]) for k in _MAPPINGS})
        return cls(**values, skipped=skipped)

    def as_dict(self) -> dict[str, Any]:
        """The `drs retention --json` document and the flow's return value (`skipped` left out)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name == "skipped":
                continue
            value = getattr(self, name)
            out[name] = list(value) if name in _SEQUENCES else dict(value) if name in _MAPPINGS else value
        return out

    def artifact_markdown(self, today: date) -> str:
        """The `retention` artifact: counts, folders and case references only."""
        refs, files = self.refs, self.files_removed
        shown = ", ".join(refs[:50]) + (f" … and {len(refs) - 50} more" if len(refs) > 50 else "")
        errors = "".join(f"- could not delete {e}\n" for e in self.file_errors + self.case_file_errors)
        by_folder = " (" + ", ".join(f"{k}: {v}" for k, v in files.items()) + ")" if files else ""
        return (
            f"# Retention — {today:%d %B %Y}\n\n"
            f"Cases closed on or before {self.closed_before} ({RETENTION_MONTHS} months) are anonymised.\n\n"
            f"- cases anonymised now: {self.cases}{': ' + shown if refs else ''}\n"
            f"- emails cleared: {self.emails}; unsent emails cancelled: {self.emails_cancelled}; "
            f"attachments removed: {self.attachments}; meeting attendees cleared: {self.attendees}; "
            f"certificate PDFs removed: {self.certificates}; claims workbooks removed: {self.claim_workbooks}\n"
            f"- files of the anonymised cases deleted: {sum(self.case_files.values())}\n"
            f"- on legal hold, kept: {', '.join(self.held) or 'none'}\n"
            f"- claim payee details cleared: {self.claims}; kept until paid: {self.claims_waiting_for_payment}\n"
            f"- files last changed before {self.files_older_than} deleted: {sum(files.values())}{by_folder}\n"
            f"{errors}"
        )


_SEQUENCES = ("case_file_errors", "held", "refs", "file_errors")
_MAPPINGS = ("case_files", "files_removed")


def anonymise_due_cases(today: date, now: datetime) -> dict[str, Any]:
    """Anonymise every case due for it on `today`; returns the summary (refs and counts)."""
    return anonymise_closed_cases(today, now).as_dict()


def remove_old_file_copies(today: date) -> dict[str, Any]:
    """Delete imported files, .eml copies and claims workbooks older than the retention period."""
    return remove_old_copies(today).as_dict()


def run(today: date, now: datetime, *, step: Step = call, wiring: Wiring | None = None) -> RetentionSummary:
    """Run the retention job for `today` (`now` stamps the anonymisation); see the module's docstring."""
    with wired(wiring):
        anonymised = step(anonymise_due_cases, today, now)
        files = step(remove_old_file_copies, today)
    return RetentionSummary.from_parts(anonymised | files, skipped=FLOW_ONLY if step is call else ())
