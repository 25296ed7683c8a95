"""The quarantine: Odoo records the database refused, kept in ``ops.odoo_sync_rejects``.

One record Odoo accepts but the database cannot take (a value out of a column's range)
must not stop its stream: the engine writes the page row by row, records the rows that
still fail here (stream, Odoo id, error, first and last seen, attempts) and commits the
rest with the checkpoint. Every run of the stream retries its rejects first and removes
those that now pass, or that Odoo no longer has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from odoosync.store.schema import odoo_sync_rejects

__all__ = ["record", "clear", "ids_of", "counts", "list_rejects"]

_IN_CHUNK = 5000
MAX_ERROR_CHARS = 2000

_t = odoo_sync_rejects


def record(conn: sa.Connection, *, backend: str, stream: str, odoo_id: int, error: str) -> None:
    """Quarantine one record (or count one more failed attempt), in ``conn``'s transaction."""
    now = dt.datetime.now(dt.UTC)
    error = error[:MAX_ERROR_CHARS]
    where = (_t.c.backend == backend, _t.c.stream == stream, _t.c.odoo_id == odoo_id)
    updated = conn.execute(
        sa.update(_t).where(*where).values(error=error, last_seen=now, attempts=_t.c.attempts + 1)
    ).rowcount
    if not updated:
        conn.execute(
            sa.insert(_t).values(
                backend=backend, stream=stream, odoo_id=odoo_id, error=error, first_seen=now, last_seen=now, attempts=1
            )
        )


def clear(conn: sa.Connection, *, backend: str, stream: str, odoo_ids: Iterable[int]) -> int:
    """Release records from the quarantine (written now, or gone from Odoo)."""
    ids = sorted(set(odoo_ids))
    done = 0
    for start in range(0, len(ids), _IN_CHUNK):
        done += (
            conn.execute(
                sa.delete(_t).where(
                    _t.c.backend == backend, _t.c.stream == stream, _t.c.odoo_id.in_(ids[start : start + _IN_CHUNK])
                )
            ).rowcount
            or 0
        )
    return done


def ids_of(store: Any, *, backend: str, stream: str) -> set[int]:
    """The Odoo ids of a stream in quarantine."""
    with store.connect() as conn:
        return set(
            conn.execute(sa.select(_t.c.odoo_id).where(_t.c.backend == backend, _t.c.stream == stream)).scalars()
        )


def counts(store: Any, *, backend: str = "default") -> dict[str, int]:
    """Records in quarantine per stream (status, API, metrics)."""
    with store.connect() as conn:
        return {
            stream: int(n)
            for stream, n in conn.execute(
                sa.select(_t.c.stream, sa.func.count()).where(_t.c.backend == backend).group_by(_t.c.stream)
            )
        }


def list_rejects(
    store: Any, *, backend: str = "default", stream: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest rejects first, as plain dicts."""
    query = sa.select(_t).where(_t.c.backend == backend).order_by(_t.c.last_seen.desc(), _t.c.id.desc()).limit(limit)
    if stream is not None:
        query = query.where(_t.c.stream == stream)
    with store.connect() as conn:
        return [
            {**dict(row), "first_seen": row["first_seen"].isoformat(), "last_seen": row["last_seen"].isoformat()}
            for row in conn.execute(query).mappings()
        ]
