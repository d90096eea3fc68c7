"""The one-way rule (flows → tasks → models.db → models.domain) and a fast CLI, checked by walking imports."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "models/domain": ("flows", "tasks", "models.db", "reports", "cli", "prefect", "sqlalchemy", "holidays"),
    "models/db": ("flows", "tasks", "reports", "cli", "prefect"),
    "reports": ("flows", "cli", "prefect"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_layers_only_import_downwards():
    offences = []
    for folder, forbidden in FORBIDDEN.items():
        for path in (REPO / folder).rglob("*.py"):
            for name in imported_modules(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    offences.append(f"{path.relative_to(REPO)} imports {name}")
    assert offences == []


def test_domain_reads_no_clock():
    for path in (REPO / "models/domain").rglob("*.py"):
        text = path.read_text()
        assert "date.today()" not in text and "datetime.now(" not in text, path


def test_cli_commands_that_run_no_flow_do_not_import_prefect():
    code = (
        "import sys; from click.testing import CliRunner; from cli.main import drs; "
        "r = CliRunner().invoke(drs, ['--help']); assert r.exit_code == 0, r.output; "
        "[drs.get_command(None, n) for n in ('db', 'la', 'case', 'demo', 'mediator')]; "
        "import tasks.casework, tasks.case_view, tasks.delivery; "
        "bad = [m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')]; "
        "assert not bad, bad[:3]"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
