"""Admin forms that must take personal data (a corrected address, a free-text note) forget it
from Prefect's own database once read (qa-15-17).

Prefect stores every flow run's parameters in its database (`$DRS_HOME/prefect`, kept 90 days)
and shows them in the dashboard; neither `drs retention` nor `drs case erase` reaches that
database. The value is needed only while the run works, so the run overwrites its own stored
parameters with "(removed)" as it starts. Outside a flow run (`flow.fn(...)`, tests) nothing happens.
"""

from __future__ import annotations

REMOVED = "(removed)"


def forget_parameters(*names: str) -> None:
    """Replace the current flow run's stored parameters `names` by "(removed)" (when set)."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return
    stored = dict(ctx.flow_run.parameters or {})
    if not any(stored.get(n) not in (None, REMOVED) for n in names):
        return
    stored.update({n: REMOVED for n in names if stored.get(n) is not None})
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.update_flow_run(ctx.flow_run.id, parameters=stored)
