"""The dashboard's password: `PREFECT_SERVER_API_AUTH_STRING` on the server, `PREFECT_API_AUTH_STRING`
in every client (the `drs` commands, `drs serve`, `make run`'s first runs).

Prefect answers a client without the right `Authorization` header with a bare `401 Unauthorized`
and the job does not run. `check_api_auth(url)` asks the server once (a cheap GET) and turns that
into one line naming the setting to fix (exit 2). Only standard library: no Prefect import.
"""

from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request

SERVER_SETTING = "PREFECT_SERVER_API_AUTH_STRING"
CLIENT_SETTING = "PREFECT_API_AUTH_STRING"


def auth_string() -> str | None:
    return os.environ.get(CLIENT_SETTING) or None


def auth_header(value: str | None = None) -> dict[str, str]:
    """{"Authorization": "Basic …"} for the auth string (`value`, else PREFECT_API_AUTH_STRING), or {}."""
    value = value if value is not None else auth_string()
    if not value:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(value.encode("utf-8")).decode("ascii")}


def auth_problem(url: str, timeout: float = 2.0) -> str | None:
    """None when the server at `url` accepts us; else one line saying which setting is missing or wrong."""
    request = urllib.request.Request(url.rstrip("/") + "/admin/version", headers=auth_header())
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as exc:
        if exc.code != 401:
            return None
    except OSError:
        return None  # unreachable now: the caller's own request will say so
    if auth_string() is None:
        return (
            f"the Prefect server at {url} is protected by a password ({SERVER_SETTING}) and "
            f"{CLIENT_SETTING} is not set: set it to the same value"
        )
    return f"the Prefect server at {url} refused {CLIENT_SETTING}: it must equal the server's {SERVER_SETTING}"


def check_api_auth(url: str) -> None:
    """Raise `InputError` (exit 2, one line) when the server at `url` would refuse us."""
    problem = auth_problem(url)
    if problem:
        from cli.common import InputError

        raise InputError(problem)
