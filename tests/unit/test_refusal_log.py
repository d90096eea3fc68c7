"""A refusal's FailedRun traceback is dropped from the flow-run log; anything else is kept."""

from __future__ import annotations

import logging
import sys

from flows.hooks import _RefusalTracebackFilter


class FailedRun(Exception):  # the same name as prefect.exceptions.FailedRun
    pass


def _record(exc: Exception | None) -> logging.LogRecord:
    info = None
    if exc is not None:
        try:
            raise exc
        except Exception:
            info = sys.exc_info()
    return logging.LogRecord(
        "prefect.flow_runs", logging.ERROR, __file__, 1, "Engine execution exited with unexpected exception", None, info
    )


def test_only_our_refusals_lose_the_engine_traceback():
    keep = _RefusalTracebackFilter().filter
    assert not keep(_record(FailedRun("refused: unknown case 'DRS-1999-99999'")))
    assert not keep(_record(FailedRun("the database refused the change (IntegrityError); nothing was saved")))
    assert keep(_record(FailedRun("Flow run encountered an exception. ValueError: boom")))
    assert keep(_record(RuntimeError("refused: looks like ours but is a crash")))
    assert keep(_record(None))
