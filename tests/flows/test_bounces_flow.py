"""The `bounce-check` flow under the Prefect test server (issue 15): one run puts the family to
phone on the `today` artifact and leaves a `bounce-check` artifact with references only."""

from __future__ import annotations

import pytest

from tests import bounce_samples as samples
from tests.integration.test_bounces import NOW, certificate_case, drop, maildir, sent_message  # noqa: F401

pytestmark = pytest.mark.flow


def test_one_bounce_check_run_puts_the_family_on_the_today_screen(
    prefect_harness,
    las,
    drs,
    drs_env,
    maildir,  # noqa: F811 (the fixture, imported above)
    monkeypatch,
):
    import httpx
    from prefect.settings import PREFECT_API_URL

    ref = certificate_case(drs)
    _, original = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1.M1P1.x", samples.postfix_report(original))
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    r = drs("mail", "bounces", "--now", NOW, "--json")  # through the flow: a server is reachable
    assert r.exit_code == 0, r.stderr
    assert "not recorded" not in r.stderr
    assert (r.json()["hard"], r.json()["escalated"]) == (1, 1)

    api = PREFECT_API_URL.value()
    today = httpx.get(f"{api}/artifacts/today/latest").json()["data"]
    assert "## Phone these families (1)" in today and ref in today and "@" not in today
    check = httpx.get(f"{api}/artifacts/bounce-check/latest").json()["data"]
    assert ref in check and "the mailbox does not exist" in check and "@" not in check
