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
    "reports": ("flows", "tasks", "cli", "prefect"),
    "models": ("prefect",),
    "tasks": ("flows", "cli", "prefect"),  # plain Python: the flows add Prefect around the orchestrators
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
        "import tasks.cases.casework, tasks.cases.view, tasks.mail.delivery; "
        "bad = [m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')]; "
        "assert not bad, bad[:3]"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


#: The one documented exception to "models/domain is stdlib only": `email-validator` (pure, no
#: I/O with `check_deliverability=False`), so that THE email check lives in models/domain/fields.py
#: and every door (referrals, claims, attendees, mediators, the LA register) uses the same one.
DOMAIN_THIRD_PARTY_ALLOWED = {"email_validator": {"models/domain/fields.py"}}


def test_domain_imports_only_the_standard_library_and_its_documented_exception():
    offences = []
    for path in (REPO / "models/domain").rglob("*.py"):
        rel = str(path.relative_to(REPO))
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "models" or top == "__future__":
                continue
            if rel in DOMAIN_THIRD_PARTY_ALLOWED.get(top, set()):
                continue
            offences.append(f"{rel} imports {name}")
    assert offences == []


def dynamic_imports(path: Path) -> set[str]:
    """Modules named in text to `importlib.import_module(...)` / `__import__(...)`, and the module
    part of "module:function" references handed to helpers that import them (e.g. `run_flow`)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__", "run_flow") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value.split(":")[0])
    return names


def test_no_layer_reaches_upwards_through_importlib():
    """The one-way rule holds for imports by name too: no `import_module("flows…")` in tasks/."""
    offences = []
    for folder, forbidden in FORBIDDEN.items():
        for path in (REPO / folder).rglob("*.py"):
            for name in dynamic_imports(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    offences.append(f"{path.relative_to(REPO)} imports {name} by name")
    assert offences == []


def test_the_importlib_check_sees_a_dynamic_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import importlib\nimportlib.import_module('flows.monitor')\nrun_flow('flows.intake:referral_intake')\n"
    )
    assert dynamic_imports(sample) == {"flows.monitor", "flows.intake"}


def test_no_module_over_300_lines_and_no_function_over_60():
    """Issue 13's size rule for the product code (tables of data aside: a module whose long
    statements are data literals is allowed its length)."""
    offences = []
    for folder in ("flows", "tasks", "models", "reports", "cli"):
        for path in (REPO / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            tree = ast.parse(source)
            code_lines = source.count("\n") - sum(
                node.end_lineno - node.lineno
                for node in tree.body
                if isinstance(node, (ast.Assign, ast.AnnAssign))
                and isinstance(node.value, (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Call))
            )
            if code_lines > 300:
                offences.append(f"{path.relative_to(REPO)}: {code_lines} lines")
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > 60:
                        offences.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {length} lines")
    assert offences == []
