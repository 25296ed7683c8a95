"""Outbox triggers: the app's changes queued in ``ops.odoo_outbox`` in the same transaction.

One definition (:data:`WATCHED`) generates the triggers for both dialects, so PostgreSQL
and SQLite queue exactly the same items:

* ``INSERT`` → ``create`` with the row's pushed columns and a random idempotency token
  (``xid``: the Odoo external id the create is made under, so a retried create finds
  the record instead of making a second one). Rows that already carry an Odoo id are
  Odoo's own and queue nothing (for ``odoo_partners``, whose key *is* the Odoo id, an
  app-made partner uses a placeholder id ≤ 0).
* ``UPDATE`` of at least one pushed column → ``write`` with the changed columns' new
  values (``values``) and old values (``old``: the base for conflict detection);
  updates of other columns (timestamps, bindings) queue nothing.
* ``DELETE`` → ``unlink`` with the old row. Rows deleted by the cascade of their lead's
  delete queue nothing: the lead's own item decides what Odoo does (archive keeps its
  chatter; unlink lets Odoo delete it).

Echo suppression: nothing is queued inside a transaction opened with
``Store.transaction(origin=...)`` (PostgreSQL: the transaction-local setting
``odoosync.origin``; SQLite: the row of ``odoo_sync_echo_guard``). The pull engine and
the push engine's own write-backs use it. On PostgreSQL each queued item also sends
``NOTIFY odoosync_outbox`` so an idle worker wakes at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Watched", "WATCHED", "NOTIFY_CHANNEL", "create_statements", "drop_statements"]

NOTIFY_CHANNEL = "odoosync_outbox"


@dataclass(frozen=True)
class Watched:
    """One synced app table: its Odoo model, key, Odoo id column and pushed columns."""

    table: str
    model: str
    key: str
    odoo_id_column: str
    columns: tuple[str, ...]
    json_columns: tuple[str, ...] = ()
    parent: tuple[str, str] | None = None  # (table, foreign key column): deletes cascade from it
    backend_column: str = "odoo_backend"  # the Odoo backend the row belongs to (migration 0007)

    def backend_of(self, row: str) -> str:
        """SQL: the backend an item of this row goes to: its parent's (a note the app adds
        to a lead goes to the lead's Odoo), else the row's own."""
        if self.parent is None:
            return f"{row}.{self.backend_column}"
        table, column = self.parent
        return f"coalesce((SELECT odoo_backend FROM {table} WHERE id = {row}.{column}), {row}.{self.backend_column})"

    def parent_exists(self, row: str) -> str:
        """SQL: the row's parent still exists (false while a cascade deletes the row)."""
        if self.parent is None:
            return "TRUE"
        table, column = self.parent
        return f"EXISTS (SELECT 1 FROM {table} WHERE id = {row}.{column})"

    @property
    def trigger_name(self) -> str:
        return f"trg_odoosync_outbox_{self.table}"

    def is_new_in_app(self, row: str) -> str:
        """SQL: the inserted row is the app's own (not yet in Odoo)."""
        column = f"{row}.{self.odoo_id_column}"
        if self.odoo_id_column == self.key:  # placeholder key until the create binds it
            return f"({column} IS NULL OR {column} <= 0)"
        return f"{column} IS NULL"


WATCHED: tuple[Watched, ...] = (
    Watched(
        "leads",
        "crm.lead",
        "id",
        "odoo_id",
        (
            "title",
            "contact_name",
            "email",
            "phone",
            "stage",
            "status",
            "value",
            "probability",
            "priority",
            "owner_name",
            "team_name",
            "tags",
            "lost_reason",
            "deadline",
            "customer_id",
            "deleted_at",
        ),
        json_columns=("tags",),
    ),
    Watched(
        "lead_activities",
        "mail.message",
        "id",
        "odoo_message_id",
        ("lead_id", "activity_type", "title", "description"),
        parent=("leads", "lead_id"),
    ),
    Watched(
        "scheduled_activities",
        "mail.activity",
        "id",
        "odoo_activity_id",
        ("lead_id", "activity_type", "summary", "note", "due_date", "assigned_name", "status"),
        parent=("leads", "lead_id"),
    ),
    Watched(
        "odoo_partners",
        "res.partner",
        "odoo_id",
        "odoo_id",
        ("name", "email", "phone", "is_company", "deleted_at"),
        backend_column="backend",
    ),
)


def create_statements(dialect: str, *, with_backend: bool = True) -> list[str]:
    """DDL creating every outbox trigger on ``dialect`` (``postgresql`` or ``sqlite``).

    ``with_backend=False``: the triggers as migration 0002 made them, before the tables
    had a backend column (every item then went to the ``default`` backend)."""
    if dialect == "postgresql":
        return [sql for watched in WATCHED for sql in _postgresql(watched, with_backend)]
    if dialect == "sqlite":
        return [sql for watched in WATCHED for sql in _sqlite(watched, with_backend)]
    raise ValueError(f"no outbox triggers for dialect {dialect!r}")


def drop_statements(dialect: str) -> list[str]:
    """DDL removing every outbox trigger (the migration's downgrade)."""
    statements: list[str] = []
    for watched in WATCHED:
        if dialect == "postgresql":
            statements.append(f"DROP TRIGGER IF EXISTS {watched.trigger_name} ON {watched.table}")
            statements.append(f"DROP FUNCTION IF EXISTS odoosync_enqueue_{watched.table}()")
        else:
            for suffix in ("insert", "update", "delete"):
                statements.append(f"DROP TRIGGER IF EXISTS {watched.trigger_name}_{suffix}")
    return statements


# ---------------------------------------------------------------------------- PostgreSQL


def _outbox_insert(w: Watched, table: str, with_backend: bool) -> tuple[str, Callable[[str], str]]:
    """The outbox ``INSERT`` column list, and a function of the row (``NEW``/``OLD``)
    giving the backend's value to put first in ``VALUES`` (nothing without a backend column)."""
    if not with_backend:
        return f"INSERT INTO {table} (model, operation, local_table, local_id, odoo_id, payload)", lambda row: ""
    return (
        f"INSERT INTO {table} (backend, model, operation, local_table, local_id, odoo_id, payload)",
        lambda row: f"{w.backend_of(row)}, ",
    )


def _postgresql(w: Watched, with_backend: bool = True) -> list[str]:
    row_object = ", ".join(f"'{c}', NEW.{c}" for c in w.columns)
    old_object = ", ".join(f"'{c}', OLD.{c}" for c in dict.fromkeys((w.key, w.odoo_id_column, *w.columns)))
    changed = "\n".join(
        f"""    IF NEW.{c} IS DISTINCT FROM OLD.{c} THEN
      new_values := new_values || jsonb_build_object('{c}', NEW.{c});
      old_values := old_values || jsonb_build_object('{c}', OLD.{c});
    END IF;"""
        for c in w.columns
    )
    insert, backend = _outbox_insert(w, "ops.odoo_outbox", with_backend)
    function = f"""CREATE OR REPLACE FUNCTION odoosync_enqueue_{w.table}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
  new_values jsonb := '{{}}'::jsonb;
  old_values jsonb := '{{}}'::jsonb;
BEGIN
  IF coalesce(current_setting('odoosync.origin', true), '') <> '' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NOT {w.is_new_in_app("NEW")} THEN
      RETURN NULL;
    END IF;
    {insert}
    VALUES ({backend("NEW")}'{w.model}', 'create', '{w.table}', NEW.{w.key}, NULL,
            jsonb_build_object('values', jsonb_build_object({row_object}),
                               'xid', md5(random()::text || clock_timestamp()::text)));
  ELSIF TG_OP = 'UPDATE' THEN
{changed}
    IF new_values = '{{}}'::jsonb THEN
      RETURN NULL;
    END IF;
    {insert}
    VALUES ({backend("NEW")}'{w.model}', 'write', '{w.table}', NEW.{w.key}, NEW.{w.odoo_id_column},
            jsonb_build_object('values', new_values, 'old', old_values));
  ELSE
    IF NOT {w.parent_exists("OLD")} THEN
      RETURN NULL;
    END IF;
    {insert}
    VALUES ({backend("OLD")}'{w.model}', 'unlink', '{w.table}', OLD.{w.key}, OLD.{w.odoo_id_column},
            jsonb_build_object('old', jsonb_build_object({old_object})));
  END IF;
  PERFORM pg_notify('{NOTIFY_CHANNEL}', '{w.table}');
  RETURN NULL;
END
$fn$"""
    trigger = (
        f"CREATE TRIGGER {w.trigger_name} AFTER INSERT OR UPDATE OR DELETE ON {w.table} "
        f"FOR EACH ROW EXECUTE FUNCTION odoosync_enqueue_{w.table}()"
    )
    return [function, f"DROP TRIGGER IF EXISTS {w.trigger_name} ON {w.table}", trigger]


# ---------------------------------------------------------------------------- SQLite

_SQLITE_NOT_GUARDED = "NOT EXISTS (SELECT 1 FROM odoo_sync_echo_guard)"


def _sqlite_value(w: Watched, row: str, column: str) -> str:
    """A column as a JSON value: JSON columns embedded, not quoted as text."""
    return f"json({row}.{column})" if column in w.json_columns else f"{row}.{column}"


def _sqlite(w: Watched, with_backend: bool = True) -> list[str]:
    insert, backend = _outbox_insert(w, "odoo_outbox", with_backend)
    row_object = ", ".join(f"'{c}', {_sqlite_value(w, 'NEW', c)}" for c in w.columns)
    old_object = ", ".join(
        f"'{c}', {_sqlite_value(w, 'OLD', c)}" for c in dict.fromkeys((w.key, w.odoo_id_column, *w.columns))
    )
    changed_any = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in w.columns)

    def only_changed(row: str) -> str:
        # json_set with a throw-away path for unchanged columns, then drop that path.
        expr = "'{}'"
        for c in w.columns:
            path = f"CASE WHEN NEW.{c} IS NOT OLD.{c} THEN '$.{c}' ELSE '$.__unchanged' END"
            expr = f"json_set({expr}, {path}, {_sqlite_value(w, row, c)})"
        return f"json_remove({expr}, '$.__unchanged')"

    on_insert = f"""CREATE TRIGGER {w.trigger_name}_insert AFTER INSERT ON {w.table}
WHEN {_SQLITE_NOT_GUARDED} AND {w.is_new_in_app("NEW")}
BEGIN
  {insert}
  VALUES ({backend("NEW")}'{w.model}', 'create', '{w.table}', NEW.{w.key}, NULL,
          json_object('values', json_object({row_object}), 'xid', lower(hex(randomblob(16)))));
END"""
    on_update = f"""CREATE TRIGGER {w.trigger_name}_update AFTER UPDATE ON {w.table}
WHEN {_SQLITE_NOT_GUARDED} AND ({changed_any})
BEGIN
  {insert}
  VALUES ({backend("NEW")}'{w.model}', 'write', '{w.table}', NEW.{w.key}, NEW.{w.odoo_id_column},
          json_object('values', json({only_changed("NEW")}), 'old', json({only_changed("OLD")})));
END"""
    on_delete = f"""CREATE TRIGGER {w.trigger_name}_delete AFTER DELETE ON {w.table}
WHEN {_SQLITE_NOT_GUARDED} AND {w.parent_exists("OLD")}
BEGIN
  {insert}
  VALUES ({backend("OLD")}'{w.model}', 'unlink', '{w.table}', OLD.{w.key}, OLD.{w.odoo_id_column},
          json_object('old', json_object({old_object})));
END"""
    statements = []
    for suffix, ddl in (("insert", on_insert), ("update", on_update), ("delete", on_delete)):
        statements.append(f"DROP TRIGGER IF EXISTS {w.trigger_name}_{suffix}")
        statements.append(ddl)
    return statements
