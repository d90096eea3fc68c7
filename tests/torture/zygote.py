"""A warm interpreter that forks one `drs …` process per request, so the kill -9 trials do not pay
Python's start-up (≈1 s each) twenty times.

Protocol on stdin/stdout, one JSON line each: the test writes an argv list (`["drs", "mail",
"deliver", …]`); the zygote forks, the child runs `cli.main.main()` with that argv — exactly what
the `drs` console script runs — with stdout/stderr to /dev/null; the zygote prints
`{"pid": …}` at once, then `{"pid": …, "status": …}` (the raw wait status) when the child ended,
however it ended (the test may SIGKILL it in between). Nothing touches the database before a fork.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    import cli.mail  # noqa: F401
    import cli.main  # noqa: F401 — warm the imports the child needs
    import tasks.mail.delivery  # noqa: F401

    if (os.environ.get("DRS_DATABASE_URL") or "").startswith("postgresql"):
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

    for line in sys.stdin:
        argv = json.loads(line)
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            code = 1
            try:
                sys.argv = argv
                cli.main.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"pid": pid, "status": status}), flush=True)


if __name__ == "__main__":
    main()
