"""The shape every admin command shares (`drs case hold|release|erase|export|contact|event`,
`drs subject-access`): read the clock, run the action's one Prefect-free entry, turn a refusal into
exit 2 with one line, then print the result as JSON (`--json`) or as a line for a person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from cli.common import InputError, emit_json, resolve_clock


def run_action(
    action: Callable[[date, datetime], Any],
    *,
    today: str | None,
    now: str | None,
    as_json: bool,
    show: Callable[[dict[str, Any]], None],
    refusals: tuple[type[Exception], ...] | None = None,
) -> dict[str, Any]:
    """Run `action(today, now)`; a refusal (`CaseworkError` unless `refusals` says) is exit 2.

    The result (a typed result with `as_dict()`, or a dict) is printed as one JSON document with
    `as_json`, else handed to `show`. Returns it as a dict."""
    from tasks.cases.casework import CaseworkError

    refused: tuple[type[Exception], ...] = refusals or (CaseworkError,)
    day, moment = resolve_clock(today, now)
    try:
        result = action(day, moment)
    except refused as exc:
        raise InputError(str(exc)) from None
    doc: dict[str, Any] = result if isinstance(result, dict) else result.as_dict()
    if as_json:
        emit_json(doc)
    else:
        show(doc)
    return doc
