"""The summary of one referral-intake run (`tasks.intake.job`): counts, each record's outcome,
and the table artifact the flow publishes (no names, no file names)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tasks.intake.records import RecordResult

_COUNTED = (("imported", "imported"), ("duplicates", "duplicate"), ("rejected", "rejected"))


@dataclass(frozen=True)
class IntakeSummary:
    """What one intake run did. `as_dict()` is exactly `drs intake --json` and the flow's return."""

    results: tuple[RecordResult, ...] = ()
    still_being_written: tuple[str, ...] = ()  # inbox files left for the next run
    skipped: tuple[str, ...] = ()  # Prefect-only extras this run did not do

    @classmethod
    def of(
        cls, results: Iterable[RecordResult], still_being_written: Iterable[str] = (), skipped: tuple[str, ...] = ()
    ) -> IntakeSummary:
        return cls(tuple(results), tuple(still_being_written), skipped)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def outbox_ids(self) -> list[int]:
        """The emails this run queued for its records (the flow hands them to background delivery)."""
        return [i for r in self.results for i in r.outbox_ids]

    def as_dict(self) -> dict:
        return {key: self.count(status) for key, status in _COUNTED} | {"results": [r.as_json() for r in self.results]}

    def artifact_rows(self) -> list[dict[str, str]]:
        """Counts by outcome, rejection reasons and case references — no names, no file names."""
        rows = [{"item": label, "value": str(self.count(status))} for label, status in _COUNTED]
        if self.still_being_written:
            rows.append(
                {
                    "item": "files left for the next run (still being written)",
                    "value": str(len(self.still_being_written)),
                }
            )
        reasons = Counter(reason for r in self.results if r.status == "rejected" for reason in r.reasons)
        rows += [{"item": f"rejected because: {reason}", "value": str(n)} for reason, n in sorted(reasons.items())]
        new = [r.case_ref for r in self.results if r.status == "imported" and r.case_ref]
        linked = sorted({r.case_ref for r in self.results if r.status == "duplicate" and r.case_ref})
        if new:
            rows.append({"item": "new cases", "value": ", ".join(new)})
        if linked:
            rows.append({"item": "existing cases referred again", "value": ", ".join(linked)})
        return rows
