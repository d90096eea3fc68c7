"""`prefect.yaml`, generated from the deployment registry (`flows/deployments.py`), and the
`python -m flows.deployments [yaml|check|list]` command. No Prefect import."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_YAML_HEAD = """\
# prefect.yaml — GENERATED from flows/deployments.py: `python -m flows.deployments yaml > prefect.yaml`
# (a test fails when the two differ). `drs serve` serves the same deployments from one process;
# this file is for running them on workers instead:
#   prefect work-pool create {pool} --type process --overwrite
#   prefect --no-prompt deploy --all
#   prefect worker start --pool {pool}
#   drs worker tasks                     # background email delivery (README, "More machines")
# Every schedule is a cron in Europe/London; nothing runs 01:00-03:00 (clock changes);
# every deployment has a concurrency limit of one.
name: drs-flows
prefect-version: 3.9.1

build: null
push: null
pull:
  # on the worker, before each run: enter this machine's copy of the project, wherever it was
  # installed (`make install`); nothing of the deploying machine's paths is stored
  - flows.deployments.enter_project: {{}}

definitions:
  work_pools:
    process: &process
      name: {pool}
      work_queue_name: default
  schedules:
    london: &london
      timezone: {tz}
      active: true
  settings:
    one_at_a_time: &one_at_a_time 1

deployments:
"""


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(specs: Iterable[Any], pool: str, tz: str) -> str:
    """The text of `prefect.yaml` for `specs` (`DeploymentSpec`s; anchors under `definitions:` for
    shared settings)."""
    out = [_YAML_HEAD.format(pool=pool, tz=tz)]
    for spec in specs:
        out.append(f"  - name: {spec.name}\n")
        out.append(f"    entrypoint: {spec.file_entrypoint}\n")
        out.append(f"    description: {_yaml_str(spec.description)}\n")
        out.append(f"    tags: [{', '.join(spec.tags)}]\n")
        out.append("    concurrency_limit: *one_at_a_time\n")
        out.append("    work_pool: *process\n")
        if spec.parameters:
            out.append("    parameters:\n")
            for key, value in spec.parameters.items():
                out.append(f"      {key}: {value!r}\n")
        else:
            out.append("    parameters: {}\n")
        if spec.crons:
            out.append("    schedules:\n")
            for cron in spec.crons:
                out.append(f"      - cron: {_yaml_str(cron)}\n        <<: *london\n")
        else:
            out.append("    schedules: []\n")
    return "".join(out)


def repository_yaml_path() -> Path:
    return Path(__file__).resolve().parents[1] / "prefect.yaml"


def main(argv: list[str]) -> int:
    """`python -m flows.deployments [yaml|check|list]`."""
    from flows.deployments import DEPLOYMENTS, render_prefect_yaml

    command = argv[0] if argv else "yaml"
    if command == "yaml":
        sys.stdout.write(render_prefect_yaml())
        return 0
    if command == "check":
        path = repository_yaml_path()
        current = path.read_text() if path.exists() else ""
        if current != render_prefect_yaml():
            print(
                f"{path} differs from flows/deployments.py; regenerate it with "
                "`python -m flows.deployments yaml > prefect.yaml`",
                file=sys.stderr,
            )
            return 1
        print("prefect.yaml matches flows/deployments.py", file=sys.stderr)
        return 0
    if command == "list":
        for spec in DEPLOYMENTS:
            print(f"{spec.name:28} {spec.entrypoint:42} {' | '.join(spec.crons) or '(on demand)'}")
        return 0
    print("usage: python -m flows.deployments [yaml|check|list]", file=sys.stderr)
    return 2
