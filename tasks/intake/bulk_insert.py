"""Many rows into one table at driver speed, with SQLAlchemy's own SQL and value conversions.

`insert_rows(db, table, rows)` is `db.execute(insert(table), rows)` without SQLAlchemy's per-row
work (building each row's parameters through the compiled statement, a call per value): the
INSERT is compiled once per (dialect, table, columns), each value goes through its column type's
own bind processor — remembered per distinct value, since a batch repeats the same dates and
timestamps thousands of times — and the rows go to the driver's `executemany` in one call.
Column defaults the rows leave out are filled as SQLAlchemy fills them (scalar defaults only);
anything else (a callable default, a bind name that is not the column's) takes the ordinary path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

#: per dialect (the engine's: its own bind processors), per (table, columns)
_compiled: WeakKeyDictionary[Dialect, dict[tuple, tuple[str, list[str], dict[str, Any], list[Any], bool] | None]] = (
    WeakKeyDictionary()
)


def insert_rows(db: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    conn = db.connection()
    keys = tuple(rows[0])
    plan = _plan(conn.dialect, table, keys)
    if plan is None:
        db.execute(insert(table), list(rows))
        return
    sql, names, defaults, processors, positional = plan
    given = [name for name in names if name not in defaults]
    by_name: dict[str, Sequence[Any]]
    if len(given) == 1:
        by_name = {given[0]: [row[given[0]] for row in rows]}
    else:  # the rows' values column by column, transposed at C speed
        by_name = dict(zip(given, zip(*map(itemgetter(*given), rows), strict=True), strict=True))
    columns = []
    for name, processor in zip(names, processors, strict=True):
        values = by_name[name] if name not in defaults else [defaults[name]] * len(rows)
        columns.append(values if processor is None else _processed(values, processor))
    params: list[Any] = list(zip(*columns, strict=True))
    if not positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    conn.exec_driver_sql(sql, params)


def _processed(values: Sequence, processor: Callable[[Any], Any]) -> list:
    """`processor` over `values`, once per distinct value (type included: 1 is not True) — or once
    per value when some value cannot be a key (a JSON column's lists and objects)."""
    keys = list(zip(map(type, values), values, strict=True))
    try:
        seen = dict.fromkeys(keys)  # first appearances, in order
    except TypeError:  # unhashable
        return list(map(processor, values))
    for key in seen:
        seen[key] = processor(key[1])
    return list(map(seen.__getitem__, keys))


def _plan(dialect: Dialect, table: Table, keys: tuple[str, ...]):
    """(SQL, bind names in order, defaults filled, a processor per bind, positional?) or None."""
    cache_key = (table.name, keys)
    compiled_for = _compiled.setdefault(dialect, {})
    if cache_key not in compiled_for:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        names = list(compiled.positiontup or compiled.binds)
        defaults = {}
        for name in names:
            if name in keys:
                continue
            default = table.c[name].default if name in table.c else None
            if default is None or not default.is_scalar:
                compiled_for[cache_key] = None
                return None
            defaults[name] = default.arg  # type: ignore[attr-defined]
        usable = set(names) <= set(table.c.keys()) and not getattr(compiled, "escaped_bind_names", None)
        # public API: the dialect's own implementation of the column type, and its bind processor
        processors = (
            [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names] if usable else []
        )
        compiled_for[cache_key] = (
            (compiled.string, names, defaults, processors, compiled.positional) if usable else None
        )
    return compiled_for[cache_key]
