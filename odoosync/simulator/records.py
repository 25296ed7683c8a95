"""The simulator's data: tables of records and the ORM methods RPC calls reach.

``Database`` holds one ``Table`` per model (rows are sparse dicts of stored values, kept
in id order) behind one lock, so each call is one transaction. ``Database.transaction()``
opens an ``Env`` (user, context, the call's stamp); ``env[model]`` is a ``Model`` with
Odoo's public methods: ``search``, ``search_read``, ``search_count``, ``read``,
``create``, ``write``, ``unlink``, ``fields_get``, ``name_get``, ``name_search``,
``action_archive``/``action_unarchive``, plus the business methods of
``business.py`` (``message_post``, ``action_feedback``, ``action_set_lost``, ...).

Rules copied from Odoo 17 (``odoo/models.py``):

* every record written by one call gets the same ``write_date``: the transaction's
  start time, stored with microseconds and served cut to the second (``Env.stamp``);
  domains compare the stored value (Odoo 16-18) or whole seconds (19), see ``domain.py``;
* ``active_test``: records with ``active = False`` are hidden from ``search`` unless the
  context says ``active_test: False`` or the domain itself mentions ``active``;
  ``read`` of ids does not filter on ``active``;
* multi-company record rules: a model with ``company_rule`` shows rows whose
  ``company_id`` is empty or in ``allowed_company_ids`` (default: the user's main
  company); reading such a row by id raises ``AccessError``;
* ``read`` silently skips ids that do not exist; ``write`` and ``unlink`` raise
  ``MissingError``, as does a many2one set to a record that does not exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any, overload

from odoosync.simulator import domain as domains
from odoosync.simulator.clock import Clock, format_datetime, format_stored
from odoosync.simulator.errors import (
    AccessError,
    InvalidValue,
    MissingError,
    PythonError,
    UnknownModel,
    ValidationError,
)
from odoosync.simulator.schema import MODELS, Field, spec_for
from odoosync.simulator.tables import Journal, Table
from odoosync.simulator.values import (
    apply_commands,
    check_commands,
    describe_field,
    ids_of,
    load_cell,
    parse_date,
    parse_datetime,
)

__all__ = ["Database", "Env", "Model", "ADMIN_UID", "SUPERUSER_UID"]

SUPERUSER_UID = 1
ADMIN_UID = 2
_MAGIC = ("id", "display_name", "create_date", "write_date", "create_uid", "write_uid")


class Database:
    """All tables, the clock, and the lock that makes each call one transaction.

    ``major`` is the Odoo version it plays (17, 18, 19): domains follow its rules.
    """

    def __init__(self, clock: Clock | None = None, *, major: int = 17):
        self.clock = clock or Clock()
        self.major = major
        self.lock = threading.RLock()
        self.tables = {name: Table(spec_for(spec, major)) for name, spec in MODELS.items()}
        self.before_commit: Callable[[Env], None] | None = None  # simulator/webhooks.py (Odoo's webhook timing)

    @contextmanager
    def transaction(
        self,
        *,
        uid: int = ADMIN_UID,
        context: Mapping[str, Any] | None = None,
        stamp: datetime | None = None,
        sudo: bool = False,
    ) -> Iterator[Env]:
        """Hold the lock for one call; every write in it is stamped ``stamp`` (default: now).

        A call that raises leaves no change behind (the tables are restored).
        """
        with self.lock:
            env = Env(self, uid, dict(context or {}), self.clock.stamp(stamp), sudo=sudo)
            journal = env.journal
            try:
                yield env
            except BaseException:
                journal.rollback(self.tables)
                raise
            if self.before_commit is not None and journal.saved:
                self.before_commit(env)


class Env:
    """One call's environment: user, context, stamp, and access to the models."""

    def __init__(self, database: Database, uid: int, context: dict[str, Any], stamp: datetime, *, sudo: bool):
        self.database = database
        self.uid = uid
        self.context = context
        self.stamp = stamp
        self.stamp_text = format_datetime(stamp)  # whole seconds, as fields.Datetime.now()
        self.stamp_stored = format_stored(stamp)  # create_date / write_date, as cr.now()
        self.su = sudo
        self.journal = Journal()

    def __getitem__(self, model: str) -> Model:
        if model not in self.database.tables:
            raise UnknownModel(f"Object {model} doesn't exist")
        from odoosync.simulator.business import model_class

        return model_class(model)(self, self.database.tables[model])

    def with_context(self, **changes: Any) -> Env:
        """The same transaction with a changed context (shares the undo log)."""
        other = Env(self.database, self.uid, {**self.context, **changes}, self.stamp, sudo=self.su)
        other.journal = self.journal
        return other

    def sudo(self) -> Env:
        """The same transaction without record rules (shares the undo log)."""
        other = Env(self.database, self.uid, self.context, self.stamp, sudo=True)
        other.journal = self.journal
        return other

    @property
    def user(self) -> dict[str, Any]:
        return self.database.tables["res.users"].rows[self.uid]

    @property
    def partner_id(self) -> int:
        return self.user["partner_id"]

    def allowed_company_ids(self) -> list[int]:
        """The companies this call may see: the context's list, else the user's main company."""
        user = self.user
        user_companies = set(user.get("company_ids") or [user["company_id"]])
        requested = self.context.get("allowed_company_ids")
        if requested:
            if not isinstance(requested, (list, tuple)) or set(requested) - user_companies:
                raise AccessError("Access to unauthorized or invalid companies.")
            return list(requested)
        return [user["company_id"]]

    def ref(self, xmlid: str) -> int:
        """Resolve ``module.name`` through ``ir.model.data`` (raises ValueError like Odoo)."""
        module, _, name = xmlid.partition(".")
        table = self.database.tables["ir.model.data"]
        for record_id in table.index("name").get(name, ()):
            row = table.rows[record_id]
            if row.get("module") == module:
                return row["res_id"]
        raise InvalidValue(f"External ID not found in the system: {xmlid}")


class Model:
    """The ORM methods of one model, bound to one call's ``Env``.

    Methods taking ``ids`` first are record methods (RPC passes the ids as the first
    positional argument, JSON-2 as ``ids``); the others are model methods.
    """

    RECORD_METHODS = frozenset(
        {
            "read",
            "write",
            "unlink",
            "name_get",
            "exists",
            "action_archive",
            "action_unarchive",
        }
    )
    MODEL_METHODS = frozenset(
        {
            "search",
            "search_read",
            "search_count",
            "create",
            "fields_get",
            "name_search",
            "default_get",
            "load",
        }
    )

    def __init__(self, env: Env, table: Table):
        self.env = env
        self.table = table
        self.spec = table.spec
        self.name = table.spec.name

    # -- public methods ------------------------------------------------------------------

    def search(
        self, domain: Sequence[Any] = (), offset: int = 0, limit: int | None = None, order: str | None = None
    ) -> list[int]:
        """Ids matching ``domain``, ordered, sliced (``limit`` None or False: no limit)."""
        rows = self._page(domain, offset, limit, order)
        return [row["id"] for row in rows]

    def search_count(self, domain: Sequence[Any] = (), limit: int | None = None) -> int:
        count = len(self._search_rows(domain))
        return min(count, int(limit)) if limit else count

    def search_read(
        self,
        domain: Sequence[Any] | None = None,
        fields: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        load: str | None = "_classic_read",
        **read_kwargs: Any,
    ) -> list[dict[str, Any]]:
        if read_kwargs:  # Odoo passes them on to the reading method, which refuses them
            unknown = next(iter(read_kwargs))
            raise PythonError(
                f"BaseModel._read_format() got an unexpected keyword argument '{unknown}'", "builtins.TypeError"
            )
        names = self._field_names(fields)
        rows = self._page(domain or [], offset, limit, order)
        return [self._format(row, names, load) for row in rows]

    def read(
        self, ids: Sequence[int] | int, fields: Sequence[str] | None = None, load: str | None = "_classic_read"
    ) -> list[dict[str, Any]]:
        names = self._field_names(fields)
        rows = [row for row in self._existing(ids) if row is not None]
        self._check_rules([row["id"] for row in rows], "read")
        return [self._format(row, names, load) for row in rows]

    @overload
    def create(self, vals_list: Mapping[str, Any]) -> int: ...
    @overload
    def create(self, vals_list: Sequence[Mapping[str, Any]]) -> list[int]: ...
    def create(self, vals_list: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int | list[int]:
        """Create one record (a dict → its id) or several (a list of dicts → their ids)."""
        single = isinstance(vals_list, Mapping)
        batch: list[Any] = [vals_list] if single else list(vals_list)
        if not all(isinstance(vals, Mapping) for vals in batch):
            raise InvalidValue(f"create() of {self.name} expects a dict or a list of dicts")
        ids = [self._create_one(dict(vals)) for vals in batch]
        return ids[0] if single else ids

    def load(self, fields: Sequence[str], data: Sequence[Sequence[Any]]) -> dict[str, Any]:
        """Odoo's import (``models.load``), as far as odoosync uses it: text cells under
        ``fields``; an ``id`` column holds external ids (``module.name``): a known one
        updates its record, a new one creates the record and its ``ir.model.data`` row in
        the same transaction (so a repeated load creates nothing twice). Relations by
        database id: ``field/.id`` (x2many: ids separated by commas); a ``.id`` column
        updates the record of that database id, and an unknown one is answered as Odoo
        does, ``ids: False`` with a message per row, nothing written. Empty cells are
        False. Other bad rows raise, where Odoo answers ``ids: False`` with messages (the
        call's transaction rolls back either way)."""
        fields = list(fields)
        unknown = self._unknown_database_ids(fields, data)
        if unknown:
            return {"ids": False, "messages": unknown, "nextrow": 0}
        ids: list[int] = []
        xmlids = self.env["ir.model.data"]
        for cells in data:
            if len(cells) != len(fields):
                raise InvalidValue(f"load(): a row has {len(cells)} cells for {len(fields)} fields")
            xid, values, database_id = None, {}, None
            for path, cell in zip(fields, cells, strict=True):
                if path == "id":
                    xid = str(cell) if cell else None
                    continue
                if path == ".id":
                    database_id = int(cell) if cell else None
                    continue
                name, _, sub = path.partition("/")
                field = self.spec.fields.get(name)
                if field is None or sub not in ("", ".id"):
                    raise InvalidValue(f"load(): unknown field {path!r} on model {self.name!r}")
                values[name] = load_cell(field, cell)
            record_id = None
            if database_id is not None:
                record_id = database_id
                self.write([record_id], values)
            elif xid:
                module, _, xname = xid.rpartition(".")
                module = module or "__import__"
                found = list(
                    xmlids.search_read(
                        [("module", "=", module), ("name", "=", xname), ("model", "=", self.name)], ["res_id"]
                    )
                )
                if found and found[0]["res_id"] in self.table.rows:
                    record_id = found[0]["res_id"]
                    self.write([record_id], values)
                else:
                    record_id = self.create(values)
                    xmlids.create({"module": module, "name": xname, "model": self.name, "res_id": record_id})
            else:
                record_id = self.create(values)
            ids.append(record_id)
        return {"ids": ids, "messages": [], "nextrow": 0}  # 0: every row was imported (16.0-19.0)

    def _unknown_database_ids(self, fields: Sequence[str], data: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """``load``'s messages for ``.id`` cells naming no record (Odoo 16-19's wording)."""
        if ".id" not in fields:
            return []
        column = list(fields).index(".id")
        messages = []
        for number, cells in enumerate(data):
            cell = cells[column] if column < len(cells) else None
            if cell and (not str(cell).isdigit() or int(cell) not in self.table.rows):
                messages.append(
                    {
                        "rows": {"from": number, "to": number},
                        "type": "error",
                        "record": number,
                        "field": ".id",
                        "message": f"Unknown database identifier '{cell}'",
                    }
                )
        return messages

    def write(self, ids: Sequence[int] | int, vals: Mapping[str, Any]) -> bool:
        ids = ids_of(ids)
        if not isinstance(vals, Mapping):
            raise InvalidValue(f"write() of {self.name} expects a dict of values")
        missing = [i for i in ids if i not in self.table.rows]
        if missing:
            raise self._missing_error("write", missing)
        self._check_rules(ids, "write")
        clean = self._convert(dict(vals), creating=False)
        for record_id in ids:
            self._write_one(record_id, clean)
        return True

    def unlink(self, ids: Sequence[int] | int) -> bool:
        ids = ids_of(ids)
        missing = [i for i in ids if i not in self.table.rows]
        if missing:  # seen on 16.0-19.0: deleting a deleted record is a MissingError
            raise self._missing_error("unlink", missing)
        self._check_rules(ids, "unlink")
        for record_id in ids:
            self._before_unlink(record_id)
            self.env.journal.before_change(self.table, record_id)
            self.table.delete(record_id)
        return True

    def exists(self, ids: Sequence[int] | int) -> list[int]:
        return [i for i in ids_of(ids) if i in self.table.rows]

    def action_archive(self, ids: Sequence[int] | int) -> None:
        """Returns nothing, as Odoo's (its JSON-RPC answer then has no ``result``; seen on 16.0-19.0)."""
        self._set_active(ids, False)

    def action_unarchive(self, ids: Sequence[int] | int) -> None:
        self._set_active(ids, True)

    def name_get(self, ids: Sequence[int] | int) -> list[list[Any]]:
        rows = [row for row in self._existing(ids) if row is not None]
        return [[row["id"], self.display_name(row)] for row in rows]

    def name_search(
        self,
        name: str = "",
        args: Sequence[Any] | None = None,
        operator: str = "ilike",
        limit: int = 100,
        domain: Sequence[Any] | None = None,
    ) -> list[list[Any]]:
        """``[[id, display_name], ...]`` matching ``name`` (Odoo 17 and 18 name the filter
        ``args``, Odoo 19 ``domain``; both are accepted)."""
        domain = list(domain or args or [])
        if name:
            domain = (
                ["&", (self.spec.rec_name, operator, name), *domain]
                if domain
                else [(self.spec.rec_name, operator, name)]
            )
        ids = self.search(domain, limit=limit)
        return self.name_get(ids)

    def default_get(self, fields_list: Sequence[str]) -> dict[str, Any]:
        names = self._field_names(fields_list)
        return {
            name: self.spec.fields[name].default_value() for name in names if self.spec.fields[name].default is not None
        }

    def fields_get(
        self, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        names = list(allfields) if allfields else list(self.spec.fields)
        result = {}
        for name in names:
            spec = self.spec.fields.get(name)
            if spec is None:
                continue  # Odoo ignores unknown names in fields_get
            description = describe_field(spec)
            if attributes:
                description = {key: value for key, value in description.items() if key in attributes}
            result[name] = description
        return result

    # -- helpers used by business methods and the in-process API --------------------------

    def display_name(self, row: Mapping[str, Any]) -> str:
        """Odoo's ``display_name`` of a stored row."""
        return _display_name(self.env, self.name, row)

    # -- internals -------------------------------------------------------------------------

    def _page(self, domain: Sequence[Any], offset: Any, limit: Any, order: str | None) -> list[dict[str, Any]]:
        """The rows ``search`` answers: matched, ordered, sliced. Models whose access
        rules Odoo checks in Python (``mail.message``, ``mail.activity``: their
        ``_search`` overrides) drop the rows the user may not read *after* the slice,
        so a page of 500 can hold 497 rows while more follow."""
        after_limit = self.name in _DOCUMENT_MODEL_FIELD and not self.env.su
        offset = int(offset or 0)
        keys = self._parse_order(order or self.spec.order)
        if limit and keys[0][0] == "id":  # id order: the scan stops once the page is full
            rows = self._search_rows(domain, ruled=not after_limit, first=offset + int(limit), descending=keys[0][1])
        else:
            rows = self._sorted(self._search_rows(domain, ruled=not after_limit), order)
        rows = rows[offset:] if not limit else rows[offset : offset + int(limit)]
        visible = self._rule() if after_limit else None
        return rows if visible is None else [row for row in rows if visible(row)]

    def _search_rows(
        self, domain: Sequence[Any], *, ruled: bool = True, first: int | None = None, descending: bool = False
    ) -> list[dict[str, Any]]:
        """The matching rows in id order (``descending``: highest first); with ``first``,
        only the first ``first`` of them (the scan stops there, like an index scan)."""
        if domain is None:
            domain = []
        if not isinstance(domain, (list, tuple)):
            raise InvalidValue(f"Domain {domain!r} is syntactically not correct.")
        domain = list(domain)
        try:
            predicate = domains.compile_domain(
                domain, self.name, self.table.field_types, _Relations(self.env), version=self.env.database.major
            )
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None
        mentions_active = any(isinstance(leaf, (list, tuple)) and leaf and leaf[0] == "active" for leaf in domain)
        hide_archived = (
            "active" in self.spec.fields and self.env.context.get("active_test", True) and not mentions_active
        )
        visible = self._rule() if ruled else None
        rows = self.table.rows
        found: list[Any] = []
        try:
            candidates = self.table.candidates(domain)
            for record_id in reversed(candidates) if descending else candidates:
                if first is not None and len(found) >= first:
                    break
                row = rows[record_id]
                if hide_archived and row.get("active") is not True:
                    continue
                if not predicate(row):  # the domain first, as SQL's WHERE: rules cost more
                    continue
                if visible is None or visible(row):
                    found.append(row)
        except TypeError as exc:
            raise InvalidValue(f"Invalid value in domain {domain!r}: {exc}") from None
        return found

    def _sorted(
        self, rows: list[dict[str, Any]], order: str | None, *, follow_many2one: bool = True
    ) -> list[dict[str, Any]]:
        """Sort like Odoo's ORDER BY on PostgreSQL: NULLs last ascending and first
        descending unless ``nulls first|last`` says otherwise; a many2one sorts by its
        comodel's own order (by id when ``follow_many2one`` is False)."""
        for name, descending, nulls_first in reversed(self._parse_order(order or self.spec.order)):
            field = self.spec.fields[name]
            if name == "id":
                rows = sorted(rows, key=lambda row: row["id"], reverse=descending)
                continue
            rank = self.env[field.comodel]._ranks() if field.type == "many2one" and follow_many2one else None
            # reverse=True flips the NULL flag too, so flip it back for the wanted placement
            nulls_high = nulls_first == descending

            def key(
                row: Mapping[str, Any],
                name: str = name,
                rank: dict[int, int] | None = rank,
                nulls_high: bool = nulls_high,
            ) -> tuple[bool, Any]:
                value = row.get(name)
                if rank is not None and value is not None:
                    value = rank.get(value)
                return (value is None) == nulls_high, 0 if value is None else value

            rows = sorted(rows, key=key, reverse=descending)
        return rows

    def _ranks(self) -> dict[int, int]:
        """Position of every record of this model in its default order."""
        ordered = self._sorted(list(self.table.rows.values()), None, follow_many2one=False)
        return {row["id"]: position for position, row in enumerate(ordered)}

    def _parse_order(self, order: str) -> list[tuple[str, bool, bool]]:
        """``"a desc, b asc nulls first"`` → ``[(name, descending, nulls_first), ...]``."""
        if not isinstance(order, str):
            raise InvalidValue(f'Invalid "order" specified ({order!r}).')
        parsed = []
        for part in order.split(","):
            words = [word.lower() for word in part.split()]
            if not words:
                raise InvalidValue(_bad_order(order))
            name, rest = part.split()[0], words[1:]
            descending = bool(rest) and rest[0] == "desc"
            if rest and rest[0] in ("asc", "desc"):
                rest = rest[1:]
            nulls_first = descending
            if rest in (["nulls", "first"], ["nulls", "last"]):
                nulls_first = rest[1] == "first"
            elif rest:
                raise InvalidValue(_bad_order(order))
            field = self.spec.fields.get(name)
            if field is None:
                raise InvalidValue(f"Invalid field {name!r} on model {self.name!r}")
            if field.type in ("one2many", "many2many") or not field.store:
                raise InvalidValue(f"Cannot sort {self.name} by non-stored field {name!r}")
            parsed.append((name, descending, nulls_first))
        return parsed

    def _field_names(self, fields: Sequence[str] | None) -> list[str]:
        if not fields:
            return [name for name in self.spec.fields if name != "id"]
        if isinstance(fields, str):
            fields = [fields]
        names = []
        for name in fields:
            if name not in self.spec.fields:
                raise InvalidValue(f"Invalid field {name!r} on model {self.name!r}")
            if name != "id":
                names.append(name)
        return names

    def _existing(self, ids: Sequence[int] | int) -> list[dict[str, Any] | None]:
        return [self.table.rows.get(record_id) for record_id in ids_of(ids)]

    def _rule(self) -> Callable[[Mapping[str, Any]], bool] | None:
        """The multi-company record rule of this model for this call (None: all visible).

        Models with a ``company_id`` see rows of the allowed companies (or none);
        chatter and activities (``mail.message``, ``mail.activity``) follow the
        document they belong to, as Odoo's ``_search`` overrides do; a
        ``user_notification`` message is only its author's and its recipients'.
        """
        if self.env.su:
            return None
        if self.spec.company_rule:
            allowed = set(self.env.allowed_company_ids())
            return lambda row: row.get("company_id") is None or row["company_id"] in allowed
        model_field = _DOCUMENT_MODEL_FIELD.get(self.name)
        if model_field is None:
            return None
        allowed = set(self.env.allowed_company_ids())
        tables = self.env.database.tables

        me = self.env.partner_id
        private = self.name == "mail.message"

        def document_visible(row: Mapping[str, Any]) -> bool:
            if (
                private
                and row.get("message_type") == "user_notification"
                and row.get("author_id") != me
                and me not in (row.get("partner_ids") or ())
            ):
                return False
            table = tables.get(row.get(model_field) or "")
            if table is None or not table.spec.company_rule:
                return True
            document = table.get(row.get("res_id"))
            return document is None or document.get("company_id") is None or document["company_id"] in allowed

        return document_visible

    def _check_rules(self, ids: Sequence[int], operation: str) -> None:
        visible = self._rule()
        if visible is None:
            return
        forbidden = [i for i in ids if not visible(self.table.rows[i])]
        if forbidden:
            raise AccessError(
                f"Due to security restrictions, you are not allowed to {_VERBS[operation]} "
                f"'{self.spec.description}' ({self.name}) records.\n\n"
                f"Records: {', '.join(f'{self.name},{i}' for i in forbidden[:6])}\n"
                f"User: Administrator (id={self.env.uid})\n\n"
                "This restriction is due to the following rules:\n"
                f"- {self.spec.description} multi-company\n\n"
                "Note: this might be a multi-company issue. Switching company may help - "
                "in Odoo, not in real life!"
            )

    def _missing_error(self, operation: str, ids: Sequence[int]) -> MissingError:
        return MissingError(
            "One of the documents you are trying to access has been deleted, please try again after refreshing."
            f"\n\n(Document type: {self.name}, Operation: {operation}, Records: {list(ids)[:6]}, User: {self.env.uid})"
        )

    def _format(self, row: Mapping[str, Any], names: Sequence[str], load: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {"id": row["id"]}
        for name in names:
            result[name] = self._read_value(row, name, load)
        return result

    def _read_value(self, row: Mapping[str, Any], name: str, load: str | None) -> Any:
        field = self.spec.fields[name]
        if name == "display_name":
            return self.display_name(row)
        if not field.store:
            return self._computed(row, name)
        if field.type in ("one2many", "many2many"):
            if field.type == "one2many":
                return self._one2many_ids(row["id"], field)
            return list(row.get(name) or [])
        value = row.get(name)
        if field.type == "datetime" and isinstance(value, str):
            return value[:19]  # stored with microseconds, served in whole seconds
        if field.type == "many2one":
            if value is None:
                return False
            if load != "_classic_read":
                return value
            target = self.env.database.tables[field.comodel]
            target_row = target.rows.get(value)
            label = _display_name(self.env, field.comodel, target_row) if target_row else ""
            return [value, label]
        if value is None:
            if field.type in ("integer", "many2one_reference"):
                return 0 if field.type == "integer" else False
            if field.type in ("float", "monetary"):
                return 0.0
            if field.type == "boolean":
                return False
            return False
        return value

    def _computed(self, row: Mapping[str, Any], name: str) -> Any:
        from odoosync.simulator.business import computed_value

        return computed_value(self, row, name)

    def _one2many_ids(self, record_id: int, field: Field) -> list[int]:
        """A one2many's lines as Odoo 17 reads them: the field's domain applies (and the
        res_model filter of a res_model/res_id pair), archived lines only when the
        context says ``active_test: False``."""
        comodel = self.env.database.tables[field.comodel]
        inverse = field.inverse or ""  # every one2many of the schema names its inverse
        ids = comodel.index(inverse).get(record_id, set())
        model_field = comodel.spec.fields[inverse].model_field
        if model_field:
            ids = {i for i in ids if comodel.rows[i].get(model_field) == self.name}
        if field.domain:
            keep = _field_domain(self.name, field.name)
            ids = {i for i in ids if keep(comodel.rows[i])}
        if "active" in comodel.spec.fields and self.env.context.get("active_test", True):
            ids = {i for i in ids if comodel.rows[i].get("active") is True}
        reverse = comodel.spec.order.lower().startswith("id desc")
        return sorted(ids, reverse=reverse)

    def _create_one(self, vals: dict[str, Any]) -> int:
        clean = self._convert(vals, creating=True)
        for name, field in self.spec.fields.items():
            if name in clean or name in _MAGIC or not field.store:
                continue
            default = self._default(name)
            if default is not None:
                clean[name] = default
        self._before_create(clean)
        self._check_required(clean)
        clean.update(
            create_date=self.env.stamp_stored,
            write_date=self.env.stamp_stored,
            create_uid=self.env.uid,
            write_uid=self.env.uid,
        )
        stored = {name: value for name, value in clean.items() if value is not None and value != []}
        next_id_before = self.table.next_id
        record_id = self.table.insert(stored)
        self.env.journal.created(self.table, record_id, next_id_before)
        self._check_rules([record_id], "create")  # e.g. a lead in a company not allowed
        self._after_create(record_id)
        return record_id

    def _default(self, name: str) -> Any:
        key = f"default_{name}"
        if key in self.env.context:
            return self._convert_value(self.spec.fields[name], self.env.context[key])
        field = self.spec.fields[name]
        if name == "company_id" and field.relation == "res.company":
            return self.env.allowed_company_ids()[0] if not self.env.su else self.env.user["company_id"]
        return field.default_value()

    def _check_required(self, values: Mapping[str, Any], record_id: int | None = None) -> None:
        for name, field in self.spec.fields.items():
            if not field.required or name in _MAGIC:
                continue
            value = (
                values.get(name)
                if record_id is None
                else (values[name] if name in values else self.table.rows[record_id].get(name))
            )
            if value is None or value is False:
                raise ValidationError(
                    "The operation cannot be completed:\n"
                    "- Create/update: a mandatory field is not set.\n"
                    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
                    f"Model: {self.spec.description} ({self.name})\n"
                    f"Field: {field.string} ({name})\n"
                )

    def _write_one(self, record_id: int, clean: Mapping[str, Any]) -> None:
        row = self.table.rows[record_id]
        old = {name: row.get(name) for name in clean}
        new_values = dict(clean)
        for name, value in clean.items():
            if self.spec.fields[name].type == "many2many":
                new_values[name] = apply_commands(row.get(name) or [], value)
        self._check_required(new_values, record_id)
        new_values["write_date"] = self.env.stamp_stored
        new_values["write_uid"] = self.env.uid
        self._before_write(record_id, new_values)
        self.env.journal.before_change(self.table, record_id)
        self.table.update(record_id, {k: (v if v != [] else None) for k, v in new_values.items()})
        self._after_write(record_id, old)

    def _convert(self, vals: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for name, value in vals.items():
            field = self.spec.fields.get(name)
            if field is None:
                raise InvalidValue(f"Invalid field {name!r} on model {self.name!r}")
            if name in _MAGIC:
                if name == "id":
                    raise InvalidValue(f"Invalid field {name!r} on model {self.name!r}")
                continue  # Odoo sets the log-access fields itself
            if not field.store:
                continue  # computed, not stored: Odoo ignores the value
            if field.type == "many2many":
                clean[name] = value if not creating else apply_commands([], value)
                check_commands(self.name, name, value)
                continue
            clean[name] = self._convert_value(field, value)
        return clean

    def _convert_value(self, field: Field, value: Any) -> Any:
        label = f"{self.name}.{field.name}"
        if field.type == "many2one":
            if value is False or value is None:
                return None
            if isinstance(value, (list, tuple)) and value:
                value = value[0]
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidValue(f"Wrong value for {label}: {value!r}")
            target = self.env.database.tables[field.comodel]
            if value not in target.rows:  # seen on 16.0-19.0: the related record is read first
                raise MissingError(
                    "Record does not exist or has been deleted.\n"
                    f"(Record: {field.relation}({value},), User: {self.env.uid})"
                )
            return value
        if value is False or value is None:
            if field.type == "boolean":
                return False
            return None
        if field.type in ("char", "text", "html"):
            return str(value)
        if field.type == "boolean":
            return bool(value)
        if field.type in ("integer", "many2one_reference"):
            try:
                return int(value)
            except (TypeError, ValueError):
                raise InvalidValue(f"Wrong value for {label}: {value!r}") from None
        if field.type in ("float", "monetary"):
            try:
                return float(value)
            except (TypeError, ValueError):
                raise InvalidValue(f"Wrong value for {label}: {value!r}") from None
        if field.type == "selection":
            keys = [key for key, _ in field.selection or ()]
            if value not in keys:
                raise InvalidValue(f"Wrong value for {label}: {value!r}")
            return value
        if field.type == "date":
            return parse_date(value, label)
        if field.type == "datetime":
            return parse_datetime(value, label)
        raise InvalidValue(f"The simulator cannot write {label} ({field.type})")

    def _set_active(self, ids: Sequence[int] | int, active: bool) -> bool:
        if "active" not in self.spec.fields:
            raise InvalidValue(f"Model {self.name} has no 'active' field")
        targets = [i for i in ids_of(ids) if self.table.rows.get(i, {}).get("active", True) is not active]
        if targets:
            self.write(targets, {"active": active})
        return True

    # hooks overridden by business models
    def _before_create(self, values: dict[str, Any]) -> None:
        return None

    def _after_create(self, record_id: int) -> None:
        return None

    def _before_write(self, record_id: int, values: dict[str, Any]) -> None:
        return None

    def _after_write(self, record_id: int, old: Mapping[str, Any]) -> None:
        return None

    def _before_unlink(self, record_id: int) -> None:
        return None


@cache
def _field_domain(model: str, name: str) -> domains.Predicate:
    """The predicate of an x2many field's own domain (on its comodel's columns)."""
    field = MODELS[model].fields[name]
    assert field.relation is not None
    types = {n: f.type for n, f in MODELS[field.relation].fields.items()}
    return domains.compile_domain(field.domain, field.relation, types)


class _Relations:
    """``domain.Related`` over one call: sub-searches run as this call's ``search``
    (its context, its record rules unless ``sudo``)."""

    def __init__(self, env: Env):
        self.env = env

    def field_types(self, model: str) -> Mapping[str, str]:
        return self.env.database.tables[model].field_types

    def relation(self, model: str, field: str) -> domains.Relation:
        spec = MODELS[model].fields[field]
        assert spec.relation is not None
        inverse_is_int = False
        field_domain = spec.domain
        if spec.type == "one2many":
            inverse = MODELS[spec.relation].fields[spec.inverse or ""]
            inverse_is_int = inverse.type == "many2one_reference"
            if inverse_is_int:
                field_domain = (*field_domain, (inverse.model_field, "=", model))
        return domains.Relation(
            spec.type, spec.relation, spec.inverse, inverse_is_int, field_domain, spec.active_test, spec.auto_join
        )

    def search(
        self, model: str, domain: Sequence[Any], *, active_test: bool | None = None, sudo: bool = False
    ) -> list[dict[str, Any]]:
        env = self.env if active_test is None else self.env.with_context(active_test=active_test)
        return env.sudo()[model]._search_rows(domain) if sudo else env[model]._search_rows(domain)


_VERBS = {"read": "access", "write": "modify", "unlink": "delete", "create": "create"}
_DOCUMENT_MODEL_FIELD = {"mail.message": "model", "mail.activity": "res_model"}


def _bad_order(order: str) -> str:
    return (
        f'Invalid "order" specified ({order}). A valid "order" specification is a comma-separated '
        "list of valid field names (optionally followed by asc/desc for the direction)"
    )


def _display_name(env: Env, model: str, row: Mapping[str, Any] | None) -> str:
    from odoosync.simulator.business import display_name

    return display_name(env, model, row) if row is not None else ""
