"""Flow parameters encoded without FastAPI when they are plain (issue 14: idle runs).

Prefect encodes a flow run's parameters with `fastapi.encoders.jsonable_encoder`, and importing
FastAPI costs a run ~0.3-0.5 s on this machine (an empty `@flow` without parameters never pays it).
Every job's flow takes only plain parameters (dates, date-times, strings, numbers, booleans, None,
lists of them): those are encoded here exactly as Prefect would; anything else still goes to
Prefect's own serializer. Nothing here imports Prefect.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, TypeVar

F = TypeVar("F")

_NOT_PLAIN = object()


def plain_json(value: Any) -> Any:
    """`value` as Prefect stores a parameter, for plain values; `_NOT_PLAIN` otherwise."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        items = [plain_json(item) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    return _NOT_PLAIN


def plain_parameters(flow: F) -> F:
    """Give `flow` a parameter serializer that encodes plain values itself (as Prefect would) and
    hands anything else to Prefect's own; returns the flow (usable as a decorator over `@flow`)."""
    original = getattr(flow, "serialize_parameters", None)
    if original is None or getattr(original, "plain", False):  # another Prefect: leave it its own
        return flow

    def serialize(parameters: dict[str, Any]) -> dict[str, Any]:
        encoded = {key: plain_json(value) for key, value in parameters.items()}
        if any(value is _NOT_PLAIN for value in encoded.values()):
            return original(parameters)
        return encoded

    serialize.plain = True  # type: ignore[attr-defined]
    flow.serialize_parameters = serialize  # type: ignore[attr-defined]
    return flow
