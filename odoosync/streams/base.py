"""What a pull stream is: what to read from Odoo, a pure mapper, and a target writer.

A :class:`Stream` is a frozen description the pull engine (``odoosync.pull``) runs:

* **what to read**: ``model``, ``fields`` (always plus ``id`` and ``write_date``),
  ``optional_fields`` (read only when the server has them, so one definition works on
  Odoo 16 to 19), an extra ``domain``, the ``page_size``, and the ``batching``:
  :data:`KEYSET` (id keyset pages, partitions walked concurrently, the default) or a
  :class:`ResIds` plan (records hanging off parent rows already in the database, e.g.
  ``mail.message`` by ``res_id in [...]``, at most ``chunk`` parents per call);
* **a target** (:class:`Target`): resolves what the mapper needs (reference names,
  customer ids, partner companies; this is the only step allowed to do I/O), calls the
  stream's pure mapper, and writes the page with one multi-row upsert per table inside the
  engine's transaction. It also answers which Odoo ids the database holds and marks
  vanished ones deleted, for delete reconciliation.

``after`` names the streams whose rows the mapping looks up (leads need stages, tags and
partners; chatter needs leads): ``sync all`` starts a stream once those are done and runs
independent streams side by side.

Adding a stream (e.g. chatter in ``streams/chatter.py``) means writing a pure mapper
``records, lookups -> rows`` and a :class:`Target` subclass (usually of
``streams.mirror.MirrorTarget``), and listing the stream in ``streams.registry``. The
engine, its checkpoints, budget, locks and runs log come for free.
"""

from __future__ import annotations

import datetime as dt
import decimal
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from odoosync.models import RunCounters
from odoosync.odoo.values import odoo_datetime

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odoosync.odoo.reader import OdooReader
    from odoosync.store.port import PullStore

__all__ = [
    "KEYSET",
    "ResIds",
    "Batching",
    "Stream",
    "Target",
    "PageContext",
    "StoredRow",
    "json_safe",
    "many2one_id",
    "many2one_name",
]

KEYSET: Literal["keyset"] = "keyset"


@dataclass(frozen=True)
class ResIds:
    """Records that hang off parents: ``res_id`` (+ ``model``) point at ``parent_model``.

    ``parent_table``/``parent_id_column`` name where the parents' Odoo ids live in the
    database (e.g. ``leads.odoo_id``); ``chunk`` caps how many parents go in one call
    where a target reads by parent. The engine uses it for ``--odoo-id N`` (N is the
    parent: "this lead's chatter"); full and incremental runs walk the child model by id
    keyset / ``(write_date, id)`` like any stream (see ``pull/engine.py``).
    """

    parent_model: str
    parent_table: str
    parent_id_column: str = "odoo_id"
    res_id_field: str = "res_id"
    model_field: str | None = "model"
    chunk: int = 50


Batching = Literal["keyset"] | ResIds


@dataclass(frozen=True)
class StoredRow:
    """What the database holds for one Odoo record: its stored ``write_date`` (None where
    the table keeps none) and whether the row is live (not deleted, not settled)."""

    write_date: Any = None
    live: bool = True


@dataclass
class PageContext:
    """What a target may use while writing a page: the ports and run-wide settings.

    ``client`` is the Odoo client (lookups of missing reference records), ``store`` the
    Store, ``force`` asks to re-map rows even when their ``write_date`` did not change
    (full mode, so a renamed stage reaches every lead), ``cache`` keeps per-run lookups.
    """

    client: OdooReader
    store: PullStore
    backend: str = "default"
    company_id: int | None = None
    force: bool = False
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    cache: dict[str, Any] = field(default_factory=dict)


class Target(ABC):
    """Where one stream's rows go, and how the database's copy is compared with Odoo."""

    @property
    @abstractmethod
    def table(self) -> sa.Table:
        """The table keyed by Odoo id (reconciliation and ``missing`` mode look here)."""

    id_column: str = "odoo_id"

    def begin_run(self, ctx: PageContext) -> None:  # noqa: B027 - an optional hook, not abstract
        """Load run-wide lookups once (e.g. the customers map). Default: nothing."""

    def prefetch(self, ctx: PageContext, records: list[dict[str, Any]]) -> None:  # noqa: B027 - optional hook
        """Odoo reads a page needs besides its own, made as soon as the page arrives (on
        the read-ahead's thread, off the writer's path), kept on the records; a full
        walk passes a whole round of pages at once, so one read can serve them all.
        Work that needs no database (e.g. mapping but for the parent's row id) may be
        done here too; it may run before the streams this one comes after are written
        and before :meth:`begin_run`, so it never reads the database. Default: none."""

    def select_changed(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The records of a page that need writing (read-only; runs before any write, so
        a page with nothing new opens no write transaction). Default: all of them."""
        return list(records)

    @abstractmethod
    def write_page(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> RunCounters:
        """Map and write the changed records of one page in ``conn``'s transaction;
        counts ``inserted``, ``updated`` and ``skipped`` (unchanged) rows."""

    @abstractmethod
    def present_ids(self, conn: sa.Connection, ctx: PageContext, after: int, upto: int | None) -> set[int]:
        """Odoo ids in ``(after, upto]`` that the database holds and has not marked deleted."""

    @abstractmethod
    def mark_deleted(self, conn: sa.Connection, ctx: PageContext, odoo_ids: Iterable[int]) -> int:
        """Mark rows whose Odoo record vanished as deleted (never drop them)."""

    def snapshot(self, conn: sa.Connection, ctx: PageContext) -> dict[int, StoredRow]:
        """Every Odoo id the database knows for this stream (``odoosync verify``).
        Default: the present ids, live, without a stamp."""
        return {i: StoredRow() for i in self.present_ids(conn, ctx, 0, None)}

    def app_deleted(self, conn: sa.Connection, ctx: PageContext, odoo_ids: Sequence[int]) -> set[int]:
        """Odoo ids the app deleted on purpose (they stay absent). Default: none."""
        return set()


@dataclass(frozen=True)
class Stream:
    """One pull stream (see the module docstring)."""

    name: str
    model: str
    fields: tuple[str, ...]
    target: Target
    optional_fields: tuple[str, ...] = ()
    domain: tuple[Any, ...] = ()
    page_size: int | None = None
    batching: Batching = KEYSET
    all_fields: bool = False
    after: tuple[str, ...] = ()  # streams whose rows this one's mapping looks up

    def read_fields(self, available: Mapping[str, str] | None = None) -> list[str]:
        """Fields to request: ``id``, ``write_date``, the stream's, and the optional ones
        the server has (``available``: ``{field: type}`` from ``fields_get``; None reads
        them all). ``all_fields`` adds every field but binaries and one2manys."""
        wanted = ["id", "write_date", *self.fields]
        wanted += [f for f in self.optional_fields if available is None or f in available]
        if self.all_fields and available is not None:
            wanted += sorted(n for n, t in available.items() if t not in _SKIPPED_TYPES)
        return list(dict.fromkeys(wanted))

    def missing_fields(self, available: Mapping[str, str]) -> list[str]:
        """Required fields the server does not have (a configuration error)."""
        return [f for f in ("id", *self.fields) if f not in available]


_SKIPPED_TYPES = frozenset({"binary", "one2many", "properties", "properties_definition"})


def many2one_id(value: Any) -> int | None:
    """The id of a normalised many2one ``(id, name)`` (or a bare id), else None."""
    if isinstance(value, tuple | list) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def many2one_name(value: Any) -> str | None:
    """The display name of a normalised many2one ``(id, name)``, else None."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return None if value[1] is None else str(value[1])
    return None


_PLAIN = (str, int, float, bool, type(None))


def json_safe(value: Any) -> Any:
    """A normalised Odoo value as plain JSON (tuples → lists, dates → ISO strings)."""
    if isinstance(value, _PLAIN):  # most values: checked first, it is the hot path
        return value
    if isinstance(value, tuple | list):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        return odoo_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    return value
