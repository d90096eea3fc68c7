"""Admin forms that take personal data forget it from Prefect's own database (qa-15-17): the
corrected address given to `admin-correct-contact` is not left in the flow run's parameters."""

from __future__ import annotations

import pytest

from tests.integration.test_bounces import NOW, bounce, certificate_case, outbox

pytestmark = pytest.mark.flow


def test_the_corrected_address_is_not_kept_in_prefects_flow_run(prefect_harness, las, drs, drs_env):
    import httpx
    from prefect.settings import PREFECT_API_URL

    from flows.admin import correct_contact, record_contact_reached

    api = PREFECT_API_URL.value()

    def all_runs() -> list[dict]:
        return httpx.post(f"{api}/flow_runs/filter", json={"sort": "EXPECTED_START_TIME_DESC", "limit": 200}).json()

    before = {r["id"] for r in all_runs()}  # the test server is shared by both databases' runs
    ref = certificate_case(drs)
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    cert = [o for o in outbox() if o.kind == "certificate"][0]
    bounce(cert.id)
    new_addr = "parent.right@families.example"
    done = correct_contact(case_ref=ref, email=new_addr, your_name="Test Admin")
    assert done["resent"] == [f"resend:{cert.id}"]  # the run still used the address
    assert [o.to_addr for o in outbox("resend:")] == [new_addr]
    bounce(outbox("resend:")[0].id)
    record_contact_reached(case_ref=ref, by="phone", on="2026-11-27", your_name="Test Admin", note="rang at work")

    runs = [r for r in all_runs() if r["id"] not in before]
    mine = {r["name"]: r for r in runs if r["parameters"].get("case_ref") == ref}
    assert len(mine) == 2
    dumped = str(runs)
    assert new_addr not in dumped and "rang at work" not in dumped
    assert sorted(r["parameters"].get("email", r["parameters"].get("note")) for r in mine.values()) == ["(removed)"] * 2
