"""The children of one `make run` (`cli.run`): started in their own process groups, so that Ctrl-C
reaches only `make run`, which then stops them in order, last started first."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

STOP_TIMEOUT_S = 20


def say(message: str) -> None:
    print(f"drs run: {message}", flush=True)


class Supervisor:
    """Starts and stops the children of one `make run`."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.record: Path | None = None

    def start(self, label: str, argv: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
        out = open(log, "ab") if log else None  # noqa: SIM115 — lives as long as the child
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            process_group=0,
            preexec_fn=_default_signals,
        )
        self.children.append((label, proc))
        return proc

    def stop(self) -> None:
        """Stop the children, last started first: SIGINT to the child itself (so `drs serve` can
        cancel its runs cleanly and pause its schedules), then SIGTERM and SIGKILL to its whole
        process group if it does not exit in time; finally sweep anything left in the group."""
        for label, proc in reversed(self.children):
            if proc.poll() is None:
                say(f"stopping {label} (pid {proc.pid})")
                proc.send_signal(signal.SIGINT)
                for sig, wait in ((None, STOP_TIMEOUT_S), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                    if sig is not None:
                        try:
                            os.killpg(proc.pid, sig)
                        except ProcessLookupError:
                            break
                    try:
                        proc.wait(timeout=wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # strays left in its group
            except (ProcessLookupError, PermissionError):
                pass
        self.children.clear()
        if self.record is not None:
            self.record.unlink(missing_ok=True)
            self.record = None


def _default_signals() -> None:
    """In a child before exec: SIGINT back to its default (a shell's `&` may have ignored it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def terminate(signum, frame):  # SIGTERM behaves like Ctrl-C
    raise KeyboardInterrupt
