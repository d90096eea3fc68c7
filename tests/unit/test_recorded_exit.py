"""After a recorded run the command leaves with `os._exit`: same status, output flushed."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import sys
import cli.recorded as recorded
recorded._recorded = {recorded!r}
def main():
    print("stdout line")
    print("stderr line", file=sys.stderr)
    sys.exit({code!r})
recorded.exit_fast(main)()
"""


@pytest.mark.parametrize(("code", "status"), [(0, 0), (1, 1), (2, 2), (None, 0), ("drs: error: boom", 1)])
@pytest.mark.parametrize("recorded", [True, False])
def test_exit_status_and_output_survive_the_fast_exit(code, status, recorded):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(code=code, recorded=recorded)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == status
    assert done.stdout == "stdout line\n"
    assert done.stderr.startswith("stderr line\n")
    if isinstance(code, str):
        assert "drs: error: boom" in done.stderr
