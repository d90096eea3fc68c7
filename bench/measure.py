"""Run one command as a child and report its wall time and peak RSS as the OS counted them.

    python -m bench.measure RESULT.json -- COMMAND [ARG…]

This wrapper is the parent of exactly one measured process, so `getrusage(RUSAGE_CHILDREN)`
after waiting for it is that process's (and its own waited-for children's) peak resident set.
The command's stdout and stderr pass through; RESULT.json gets
`{"wall_s", "rss_mb", "returncode"}`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    result_path, sep, *command = sys.argv[1:]
    if sep != "--" or not command:
        raise SystemExit("usage: python -m bench.measure RESULT.json -- COMMAND [ARG…]")
    started = time.perf_counter()
    returncode = subprocess.call(command)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump({"wall_s": wall, "rss_mb": peak_kb / 1024, "returncode": returncode}, fh)


if __name__ == "__main__":
    main()
