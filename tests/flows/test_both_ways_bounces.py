"""The bounce-check job both ways (issue 13): `tasks.bounces.job.run` with plain calls (what `drs
mail bounces` does without a server) and the `bounce-check` flow, on the same bounced certificate
waiting in the bounce Maildir — the same summary, the same rows, the same files (the notice moved
to `.processed` either way)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests import bounce_samples as samples
from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.integration.test_bounces import NOW, certificate_case, drop, maildir, sent_message  # noqa: F401

pytestmark = pytest.mark.flow


def test_bounce_check_both_ways(prefect_harness, las, drs, drs_env, maildir):  # noqa: F811 (the fixture)
    from flows.bounces import bounce_check
    from tasks.bounces import job
    from tasks.settings import get_settings
    from tasks.steps import call

    ref = certificate_case(drs)
    _, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1.M1P1.x", samples.postfix_report(original))
    moment = datetime.fromisoformat(NOW)
    direct, flowed = both_ways(
        get_settings(),
        lambda: job.run(moment.date(), moment, step=call),
        lambda: bounce_check(now=moment),
        ignore=DEFAULT_IGNORED | {"recorded_at"},  # the audit log's real wall-clock time
    )
    assert direct.summary.as_dict() == flowed.summary
    assert direct.summary.skipped == ("dashboard artifact bounce-check", "today screen")
    assert (direct.summary.read, direct.summary.hard, direct.summary.escalated) == (1, 1, 1)
    assert direct.summary.case_refs == (ref,)
    assert direct.tables == flowed.tables
    assert len(direct.tables["contact_problems"]) == 1
    assert direct.files == flowed.files
    assert any(".processed/cur/1.M1P1.x" in path for path, _ in direct.files)
