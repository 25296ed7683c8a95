"""SQL conditions shared by the targets' lookups on the page path.

``column IN (:a, :b, ...)`` with a page's ids (1,000 or more) is a statement with as many
parameters, which psycopg converts and dumps in Python on every execution (its statement
cache stops at 50 parameters). On PostgreSQL the same condition is ``column = ANY(:ids)``
with one array parameter, sent in binary; SQLite keeps ``IN``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = ["id_in"]


def id_in(conn: sa.Connection, column: sa.ColumnElement[int], ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """``column`` is one of ``ids`` (integers), in the form that suits ``conn``'s database."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=postgresql.ARRAY(sa.BigInteger)))
    return column.in_(list(ids))
