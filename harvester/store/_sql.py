"""Small helpers the table modules share: chunked ``IN`` lists, rows as dicts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlite_utils import Database

# SQLite's limit on host parameters is 32,766 in the builds Python ships; stay well under.
CHUNK = 900


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def in_list(column: str, chunk: Sequence[Any]) -> str:
    return f"{column} IN ({','.join('?' * len(chunk))})"


def dicts(db: Database, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
    """Rows as dicts, built by ``zip`` (a harvest reads tens of thousands of them)."""
    cursor = db.execute(sql, params)
    keys = [d[0] for d in cursor.description]
    return (dict(zip(keys, row, strict=True)) for row in cursor)


def rows_where(
    db: Database, table: str, column: str, values: Iterable[Any], columns: str = "*"
) -> Iterator[dict[str, Any]]:
    """Rows of ``table`` whose ``column`` is one of ``values``, a query per 900 values."""
    wanted = sorted({v for v in values if v is not None})
    for chunk in chunks(wanted):
        yield from dicts(db, f"SELECT {columns} FROM {table} WHERE {in_list(column, chunk)}", chunk)
