"""Domain evaluation agrees with Odoo's SQL translation, checked against SQLite.

The oracle below is written independently of ``odoosync.simulator.domain``: it turns a
domain into the SQL Odoo 17's ``expression.py`` emits (``IS NULL`` rules, ``OR f IS NULL``
for negative operators, ``%…%`` for ``like``, ``EXISTS`` on the relation table for
many2many, the inverse column for one2many, and for dotted paths and ``any`` the
sub-select on the comodel: archived targets count for a many2one, not for an x2many) and
lets SQLite evaluate it over the same rows. Hypothesis generates the rows and the
domains. The few places where Odoo 18 and 19 differ have focused cases at the end, with
the SQL those versions emit written next to them.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoosync.simulator.domain import Relation, compile_domain, distribute_not, id_bounds, normalize_domain

TYPES: dict[str, dict[str, str]] = {
    "x.model": {
        "id": "integer",
        "name": "char",
        "qty": "integer",
        "amount": "float",
        "active": "boolean",
        "partner_id": "many2one",
        "day": "date",
        "at": "datetime",
        "kind": "selection",
        "tag_ids": "many2many",
        "line_ids": "one2many",
    },
    "y.partner": {
        "id": "integer",
        "name": "char",
        "is_company": "boolean",
        "active": "boolean",
        "parent_id": "many2one",
    },
    "y.tag": {"id": "integer", "name": "char", "active": "boolean"},
    "y.line": {"id": "integer", "x_id": "many2one", "qty": "integer", "active": "boolean"},
}
FIELD_TYPES = TYPES["x.model"]
RELATIONS = {
    ("x.model", "partner_id"): Relation("many2one", "y.partner"),
    ("x.model", "tag_ids"): Relation("many2many", "y.tag"),
    ("x.model", "line_ids"): Relation("one2many", "y.line", "x_id"),
    ("y.partner", "parent_id"): Relation("many2one", "y.partner"),
    ("y.line", "x_id"): Relation("many2one", "x.model"),
}
SQL_TABLES = {"x.model": "t", "y.partner": "p", "y.tag": "g", "y.line": "l"}
IDS = st.integers(1, 4)

texts = st.one_of(st.none(), st.sampled_from(["", "Acme", "acme", "ACME corp", "50%", "a_b", "Zoë", "x"]))
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "name": texts,
            "qty": st.one_of(st.none(), st.integers(-3, 3)),
            "amount": st.one_of(st.none(), st.sampled_from([0.0, 1.5, -2.0, 10.0])),
            "active": st.booleans(),
            "partner_id": st.one_of(st.none(), IDS),
            "day": st.one_of(st.none(), st.sampled_from(["2024-01-01", "2024-02-29", "2025-12-31"])),
            "at": st.one_of(
                st.none(), st.sampled_from(["2024-01-01 00:00:00", "2024-01-01 23:59:59", "2024-03-01 10:00:00"])
            ),
            "kind": st.one_of(st.none(), st.sampled_from(["lead", "opportunity"])),
            "tag_ids": st.lists(IDS, unique=True, max_size=3),
        }
    ),
    max_size=12,
)
# the related records: partners 1-4 (a parent among them), tags 1-4, lines of x rows 1-4
partners_strategy = st.tuples(
    *[
        st.fixed_dictionaries(
            {
                "name": texts,
                "is_company": st.booleans(),
                "active": st.booleans(),
                "parent_id": st.one_of(st.none(), IDS),
            }
        )
        for _ in range(4)
    ]
)
tags_strategy = st.tuples(*[st.fixed_dictionaries({"name": texts, "active": st.booleans()}) for _ in range(4)])
lines_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "x_id": st.one_of(st.none(), IDS),
            "qty": st.one_of(st.none(), st.integers(-3, 3)),
            "active": st.booleans(),
        }
    ),
    max_size=8,
)


def _value_for(ftype: str, operator: str) -> st.SearchStrategy[Any]:
    if operator in ("in", "not in"):
        return st.lists(st.one_of(st.just(False), _plain(ftype)), max_size=3)
    if operator in ("like", "not like", "ilike", "not ilike", "=like", "=ilike"):
        return st.sampled_from(["", "a", "A", "cme", "%", "_", "a%", "50\\%", "Zo", "ACME%"])
    if operator in ("=", "!="):
        return st.one_of(st.just(False), _plain(ftype))
    return _plain(ftype)


def _plain(ftype: str) -> st.SearchStrategy[Any]:
    return {
        "integer": st.integers(-3, 3),
        "float": st.sampled_from([0.0, 1.5, -2.0, 10.0]),
        "boolean": st.booleans(),
        "many2one": IDS,
        "char": st.sampled_from(["Acme", "acme", "x", "50%", "Zoë"]),
        "date": st.sampled_from(["2024-01-01", "2024-02-29", "2025-12-31"]),
        "datetime": st.sampled_from(["2024-01-01", "2024-01-01 23:59:59", "2024-03-01 10:00:00"]),
        "selection": st.sampled_from(["lead", "opportunity"]),
    }[ftype]


@st.composite
def scalar_leaves(draw: st.DrawFn, model: str) -> tuple[str, str, Any]:
    """A leaf on one of ``model``'s own columns."""
    field = draw(st.sampled_from([f for f, t in TYPES[model].items() if t not in ("many2many", "one2many")]))
    ftype = TYPES[model][field]
    operators = ["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
    if ftype in ("char", "selection"):
        operators += ["like", "not like", "ilike", "not ilike", "=like", "=ilike"]
    if ftype == "boolean":
        operators = ["=", "!=", "in", "not in"]
    operator = draw(st.sampled_from(operators))
    return (field, operator, draw(_value_for(ftype, operator)))


@st.composite
def x2many_leaves(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A many2many or one2many compared with ids or False."""
    field = draw(st.sampled_from(["tag_ids", "line_ids"]))
    operator = draw(st.sampled_from(["in", "not in", "=", "!="]))
    ids = st.integers(1, 9) if field == "line_ids" else IDS
    value = draw(st.lists(ids, max_size=3) if "in" in operator else st.one_of(st.just(False), ids))
    return (field, operator, value)


@st.composite
def path_leaves(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A dotted path through a many2one (one or two levels), a many2many or a one2many."""
    prefix, model = draw(
        st.sampled_from(
            [
                ("partner_id", "y.partner"),
                ("partner_id.parent_id", "y.partner"),
                ("tag_ids", "y.tag"),
                ("line_ids", "y.line"),
            ]
        )
    )
    field, operator, value = draw(scalar_leaves(model))
    return (f"{prefix}.{field}", operator, value)


@st.composite
def any_leaves(draw: st.DrawFn) -> tuple[str, str, Any]:
    """``any`` / ``not any`` with a small domain on the comodel."""
    field, model = draw(st.sampled_from([("partner_id", "y.partner"), ("tag_ids", "y.tag"), ("line_ids", "y.line")]))
    sub = [draw(scalar_leaves(model))]
    if draw(st.booleans()):
        sub = ["!", *sub]
    return (field, draw(st.sampled_from(["any", "not any"])), sub)


def leaves() -> st.SearchStrategy[tuple[str, str, Any]]:
    return st.one_of(scalar_leaves("x.model"), x2many_leaves(), path_leaves(), any_leaves())


@st.composite
def domains(draw: st.DrawFn, depth: int = 3) -> list[Any]:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return [draw(leaves())]
    kind = draw(st.sampled_from(["&", "|", "!", "implicit"]))
    if kind == "!":
        return ["!", *draw(domains(depth - 1))]
    first, second = draw(domains(depth - 1)), draw(domains(depth - 1))
    if kind == "implicit":
        # implicit '&' only joins complete top-level terms; wrap each as one term
        return ["&", *first, *second]
    return [kind, *first, *second]


# -- the oracle: Odoo 17's SQL for each leaf, run by SQLite ---------------------------------

_NEG = {
    "<": ">=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "=": "!=",
    "!=": "=",
    "in": "not in",
    "not in": "in",
    "like": "not like",
    "not like": "like",
    "ilike": "not ilike",
    "not ilike": "ilike",
    "any": "not any",
    "not any": "any",
}


def _push_not(tokens: list[Any]) -> list[Any]:
    """Odoo's negation, written recursively (independent of the simulator's): operators
    are negated, except on dotted paths and operators without a negation (kept as '!')."""

    def walk(position: int, negate: bool) -> tuple[list[Any], int]:
        token = tokens[position]
        if token == "!":
            return walk(position + 1, not negate)
        if token in ("&", "|"):
            a, nxt = walk(position + 1, negate)
            b, nxt = walk(nxt, negate)
            op = token if not negate else ("|" if token == "&" else "&")
            return [op, *a, *b], nxt
        if not negate:
            return [token], position + 1
        left, operator, right = token
        if operator in _NEG and "." not in left:
            return [(left, _NEG[operator], right)], position + 1
        return ["!", token], position + 1

    result, _ = walk(0, False)
    return result


def _normalized(domain: Sequence[Any]) -> list[Any]:
    return [tuple(t) if isinstance(t, (list, tuple)) else t for t in domain]


class _Sql:
    """Builds Odoo's WHERE clause for a domain on one model, table alias included: 17's
    ``expression.parse``/``__leaf_to_sql``, or 18's with ``_condition_to_sql``."""

    def __init__(self, version: int = 17) -> None:
        self.version = version
        self.params: list[Any] = []
        self._aliases = itertools.count()

    def alias(self, model: str) -> str:
        return f"{SQL_TABLES[model]}{next(self._aliases)}"

    def where(self, model: str, alias: str, domain: Sequence[Any]) -> str:
        tokens = _push_not(_normalized(domain))

        def walk(position: int) -> tuple[str, int]:
            token = tokens[position]
            if token == "!":
                inner = tokens[position + 1]
                if isinstance(inner, tuple) and "." in inner[0]:  # not ('a.b' ...) is 'a' not any
                    return self._path(model, alias, inner, positive=False), position + 2
                sql, nxt = walk(position + 1)
                return f"(NOT {sql})", nxt
            if token in ("&", "|"):
                a, nxt = walk(position + 1)
                b, nxt = walk(nxt)
                return f"({a} {'AND' if token == '&' else 'OR'} {b})", nxt
            return self.leaf(model, alias, token), position + 1

        sql, end = walk(0)
        assert end == len(tokens)
        return sql

    def subselect(self, model: str, domain: Sequence[Any], *, active_test: bool) -> str:
        """``SELECT id FROM comodel WHERE domain`` (plus ``active`` unless the domain names it)."""
        alias = self.alias(model)
        where = self.where(model, alias, domain)
        if active_test and not any(isinstance(t, tuple) and t[0] == "active" for t in _normalized(domain)):
            where = f"({where} AND {alias}.active = 1)"
        return f"SELECT {alias}.id FROM {SQL_TABLES[model]} AS {alias} WHERE {where}"

    def _any(self, model: str, alias: str, field: str, sub: Sequence[Any], *, positive: bool) -> str:
        rel = RELATIONS[(model, field)]
        if rel.type == "many2one":  # active_test=False on the comodel; 'not any' also matches NULL
            select = self.subselect(rel.comodel, sub, active_test=False)
            if positive:
                return f"({alias}.{field} IN ({select}))"
            return f"({alias}.{field} NOT IN ({select}) OR {alias}.{field} IS NULL)"
        select = self.subselect(rel.comodel, sub, active_test=True)
        if rel.type == "many2many":
            sql = f"EXISTS (SELECT 1 FROM rel WHERE rel.rid = {alias}.id AND rel.tid IN ({select}))"
        else:
            sql = f"({alias}.id IN (SELECT lx.x_id FROM l AS lx WHERE lx.id IN ({select}) AND lx.x_id IS NOT NULL))"
        return sql if positive else f"(NOT {sql})"

    def _path(self, model: str, alias: str, leaf: tuple[str, str, Any], *, positive: bool) -> str:
        left, operator, right = leaf
        head, rest = left.split(".", 1)
        return self._any(model, alias, head, [(rest, operator, right)], positive=positive)

    def leaf(self, model: str, alias: str, leaf: tuple[str, str, Any]) -> str:
        left, operator, right = leaf
        if "." in left:
            return self._path(model, alias, leaf, positive=True)
        if operator in ("any", "not any"):
            return self._any(model, alias, left, right, positive=operator == "any")
        ftype = TYPES[model][left]
        col = f'{alias}."{left}"'
        if ftype == "many2many":
            sub = f"SELECT 1 FROM rel WHERE rel.rid = {alias}.id"
            if operator in ("=", "!=") and right is False:
                return f"(NOT EXISTS ({sub}))" if operator == "=" else f"(EXISTS ({sub}))"
            ids = [v for v in (right if isinstance(right, list) else [right]) if v is not False]
            self.params.extend(ids)
            inner = f"(EXISTS ({sub} AND rel.tid IN ({','.join('?' * len(ids)) or 'NULL'})))"
            return inner if operator in ("=", "in") else f"(NOT {inner})"
        if ftype == "one2many":  # line_ids: lines' x_id, archived lines included (active_test=False)
            lines = "SELECT lx.x_id FROM l AS lx WHERE lx.x_id IS NOT NULL"
            if operator in ("=", "!=") and right is False:
                if self.version == 18:  # _where_calc with the field's context: active lines only
                    lines += " AND lx.active = 1"
                return f"({alias}.id NOT IN ({lines}))" if operator == "=" else f"({alias}.id IN ({lines}))"
            ids = [v for v in (right if isinstance(right, list) else [right]) if v is not False]
            self.params.extend(ids)
            inner = f"({alias}.id IN ({lines} AND lx.id IN ({','.join('?' * len(ids)) or 'NULL'})))"
            return inner if operator in ("=", "in") else f"(NOT {inner})"
        if self.version >= 18:
            return self._condition_to_sql(col, left, ftype, operator, right)
        if operator in ("in", "not in"):
            if ftype == "boolean":
                plain = [v for v in (True, False) if v in right]
                check_null = False in right
            else:
                plain = [v for v in right if v is not False]
                check_null = any(v is False for v in right)
            if ftype == "datetime":
                plain = [v + " 00:00:00" if len(v) == 10 else v for v in plain]
            return self._in_sql(col, operator, plain, check_null)
        if ftype == "boolean" and operator in ("=", "!=") and isinstance(right, bool):
            value = (not right) if operator == "!=" else right
            return f"({col} = 1)" if value else f"({col} IS NULL OR {col} = 0)"
        if operator == "=" and right is False:
            return f"{col} IS NULL"
        if operator == "!=" and right is False:
            return f"{col} IS NOT NULL"
        if ftype == "datetime" and isinstance(right, str) and len(right) == 10:
            right = right + (" 23:59:59" if operator in (">", "<=") else " 00:00:00")
        wildcard = operator in ("like", "not like", "ilike", "not ilike")
        if operator.endswith("like"):
            pattern = f"%{right}%" if wildcard else right
            self.params.append(pattern)
            negated = "NOT LIKE" if operator.startswith("not") else "LIKE"
            if operator.endswith("ilike"):
                sql = f"(lower({col}) {negated} lower(?) ESCAPE '\\')"
            else:
                sql = f"({col} {negated} ? ESCAPE '\\')"
        else:
            self.params.append(right)
            sql = f"({col} {'<>' if operator == '!=' else operator} ?)"
        if (wildcard and not right) or (right and operator in ("!=", "not like", "not ilike")):
            sql = f"({sql} OR {col} IS NULL)"
        return sql

    def _in_sql(self, col: str, operator: str, values: list[Any], check_null: bool) -> str:
        """``col [NOT] IN (values)`` with NULL matched when ``check_null`` says so (both versions)."""
        if values:
            self.params.extend(values)
            sql = f"({col} {'IN' if operator == 'in' else 'NOT IN'} ({','.join('?' * len(values))}))"
        else:
            sql = "0" if operator == "in" else "1"
        if (operator == "in" and check_null) or (operator == "not in" and not check_null):
            sql = f"({sql} OR {col} IS NULL)"
        elif operator == "not in" and check_null:
            sql = f"({sql} AND {col} IS NOT NULL)"
        return sql

    def _condition_to_sql(self, col: str, left: str, ftype: str, operator: str, right: Any) -> str:
        """Odoo 18's ``BaseModel._condition_to_sql`` (after ``parse`` completed datetimes)."""
        if ftype == "datetime" and isinstance(right, str) and len(right) == 10:
            right = right + (" 23:59:59" if operator in (">", "<=") else " 00:00:00")
        is_number = ftype in ("integer", "float", "monetary") and left != "id"
        is_char = ftype in ("char", "text", "html")
        negative = operator in ("!=", "not like", "not ilike", "not in")
        if operator in ("in", "not in"):
            params = [v for v in right if v is not False and v is not None]
            check_null = len(params) < len(right)
            if ftype == "boolean":
                params = [True] if any(params) else []
                if check_null:
                    params.append(False)
            elif is_number:
                if check_null and 0 not in params:
                    params.append(0)
                check_null = check_null or (0 in params)
            elif is_char:
                if check_null and "" not in params:
                    params.append("")
                check_null = check_null or ("" in params)
            if ftype == "datetime":
                params = [v + " 00:00:00" if len(v) == 10 else v for v in params]
            return self._in_sql(col, operator, params, check_null)
        if ftype == "boolean" and operator in ("=", "!=") and isinstance(right, bool):
            value = (not right) if negative else right
            return f"({col} = 1)" if value else f"({col} IS NULL OR {col} = 0)"
        if (ftype == "many2one" or left == "id") and operator in ("=", "!=") and not right:
            right = False
        if operator in ("=", "!=") and right is False:
            if is_number:
                right = 0
            elif is_char:
                right = ""
            else:
                return f"{col} IS NULL" if operator == "=" else f"{col} IS NOT NULL"
        wildcard = operator in ("like", "ilike", "not like", "not ilike")
        if wildcard and not right:
            return "0" if negative else "1"
        if operator.endswith("like"):
            self.params.append(f"%{right}%" if wildcard else right)
            negated = "NOT LIKE" if operator.startswith("not") else "LIKE"
            if operator.endswith("ilike"):
                sql = f"(lower({col}) {negated} lower(?) ESCAPE '\\')"
            else:
                sql = f"({col} {negated} ? ESCAPE '\\')"
        else:
            self.params.append(right)
            sql = f"({col} {'<>' if operator == '!=' else operator} ?)"
        if bool(right) == negative and operator[:1] not in (">", "<"):
            sql = f"({sql} OR {col} IS NULL)"
        if (
            not wildcard
            and is_number
            and (
                (operator == ">=" and right <= 0)
                or (operator == "<=" and right >= 0)
                or (operator == "<" and right > 0)
                or (operator == ">" and right < 0)
            )
        ):
            sql = f"({sql} OR {col} IS NULL)"
        return sql


_COLUMNS = {
    "t": ["id", "name", "qty", "amount", "active", "partner_id", "day", "at", "kind"],
    "p": ["id", "name", "is_company", "active", "parent_id"],
    "g": ["id", "name", "active"],
    "l": ["id", "x_id", "qty", "active"],
}


def _sqlite_ids(world: World, domain: list[Any]) -> set[int]:
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA case_sensitive_like = ON")
    for table, columns in _COLUMNS.items():
        connection.execute(f"CREATE TABLE {table} ({', '.join(f'{c!r}' for c in columns)})")
        model = next(m for m, t in SQL_TABLES.items() if t == table)
        connection.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})",
            [[row.get(c) for c in columns] for row in world.rows[model]],
        )
    connection.execute("CREATE TABLE rel (rid INTEGER, tid INTEGER)")
    connection.executemany(
        "INSERT INTO rel VALUES (?, ?)", [(row["id"], tag) for row in world.rows["x.model"] for tag in row["tag_ids"]]
    )
    sql = _Sql(world.version)
    where = sql.where("x.model", "t", domain)
    found = {row[0] for row in connection.execute(f"SELECT t.id FROM t WHERE {where}", sql.params)}
    connection.close()
    return found


class World:
    """``domain.Related`` over plain rows: a sub-search is the comodel's domain compiled
    the same way, plus the ``active`` rule of Odoo's ``_where_calc``."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], version: int = 17):
        self.rows = rows
        self.version = version

    def field_types(self, model: str) -> Mapping[str, str]:
        return TYPES[model]

    def relation(self, model: str, field: str) -> Relation:
        return RELATIONS[(model, field)]

    def search(
        self, model: str, domain: Sequence[Any], *, active_test: bool | None = None, sudo: bool = False
    ) -> list[Mapping[str, Any]]:
        predicate = compile_domain(domain, model, TYPES[model], self, version=self.version)
        hide = active_test is not False and not any(isinstance(t, (list, tuple)) and t[0] == "active" for t in domain)
        stored = [_stored(row) for row in self.rows[model]]
        return [row for row in stored if not (hide and row.get("active") is not True) and predicate(row)]


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    """The simulator's storage convention: empty values are absent, no one2many ids."""
    return {key: value for key, value in row.items() if value is not None}


def _world(rows: list[dict[str, Any]], partners: Any = (), tags: Any = (), lines: Any = (), version: int = 17) -> World:
    return World(
        {
            "x.model": [dict(row, id=index + 1) for index, row in enumerate(rows)],
            "y.partner": [dict(row, id=index + 1) for index, row in enumerate(partners)],
            "y.tag": [dict(row, id=index + 1) for index, row in enumerate(tags)],
            "y.line": [dict(row, id=index + 1) for index, row in enumerate(lines)],
        },
        version,
    )


def _ours(world: World, domain: list[Any]) -> set[int]:
    predicate = compile_domain(domain, "x.model", FIELD_TYPES, world, version=world.version)
    return {row["id"] for row in world.rows["x.model"] if predicate(_stored(row))}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, partners=partners_strategy, tags=tags_strategy, lines=lines_strategy, domain=domains())
def test_domain_matches_odoo_sql(
    rows: list[dict[str, Any]], partners: Any, tags: Any, lines: Any, domain: list[Any]
) -> None:
    """Every generated case is checked as Odoo 17 and as Odoo 18 answer it: drawing the rows
    and the domain is most of a case's cost, so both versions share the draw."""
    for version in (17, 18):
        world = _world(rows, partners, tags, lines, version=version)
        assert _ours(world, domain) == _sqlite_ids(world, domain), (version, domain)


@given(domain=domains())
@settings(max_examples=200, deadline=None)
def test_distribute_not_agrees_with_oracle(domain: list[Any]) -> None:
    assert distribute_not(normalize_domain(domain)) == _push_not(_normalized(domain))


def test_implicit_and_and_empty_domain() -> None:
    rows = [{"id": 1, "qty": 1, "name": "a"}, {"id": 2, "qty": 2, "name": "a"}, {"id": 3, "qty": 2, "name": "b"}]
    predicate = compile_domain([("qty", "=", 2), ("name", "=", "a")], "x.model", FIELD_TYPES)
    assert [r["id"] for r in rows if predicate(r)] == [2]
    assert all(compile_domain([], "x.model", FIELD_TYPES)(r) for r in rows)
    assert normalize_domain([("a", "=", 1), ("b", "=", 2), ("c", "=", 3)])[:2] == ["&", "&"]


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([("nope", "=", 1)], "Invalid field x.model.nope in leaf ('nope', '=', 1)"),
        ([("nope.name", "=", 1)], "Invalid field x.model.nope in leaf ('nope.name', '=', 1)"),
        ([("name.x", "=", 1)], "Invalid field x.model.name.x in leaf"),
        ([("partner_id.nope", "=", 1)], "Invalid field y.partner.nope in leaf ('nope', '=', 1)"),
        ([("qty", "~", 1)], "Invalid leaf"),
        ([("qty", "any", [])], "is not a relational field"),
        ([("partner_id", "any", "Acme")], "Invalid value"),
        ([("id", "child_of", "Acme")], "ids only"),
        ([("tag_ids", "child_of", 1)], "y.tag has no parent_id hierarchy"),
        (["&", ("qty", "=", 1)], "syntactically not correct"),
        (["|"], "syntactically not correct"),
        ([("qty", "=")], "Invalid leaf"),
        ("qty = 1", "syntactically not correct"),
        ([("name", "=", 5)], "Invalid value"),
        ([("partner_id", "=", "Acme")], "many2one fields with ids only"),
        ([("tag_ids", "ilike", "x")], "supports =, !=, in, not in"),
        ([42], "Invalid leaf"),
    ],
)
def test_malformed_domains_name_the_problem(domain: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        compile_domain(domain, "x.model", FIELD_TYPES, _world([]))
    assert message in str(info.value)


def test_relations_need_the_related_records() -> None:
    with pytest.raises(ValueError, match="needs the related records"):
        compile_domain([("partner_id.name", "=", "x")], "x.model", FIELD_TYPES)
    # a plain many2one compared with ids does not
    assert compile_domain([("partner_id", "in", [1])], "x.model", FIELD_TYPES)({"partner_id": 1})


def test_id_bounds_narrow_conjunctions_and_add_the_spans_of_disjunctions() -> None:
    every = ((None, None),)
    assert id_bounds([("id", ">", 10), ("id", "<=", 20), ("name", "=", "a")]) == (((11, 20),), None)
    assert id_bounds([("id", "in", [3, 4, 5]), ("id", "=", 4)]) == (every, frozenset({4}))
    assert id_bounds(["|", ("id", ">", 10), ("qty", "=", 1)]) == (every, None)
    # the reconcile's listing of one range and the tail: two slices, not all that lies between
    ranges = [("name", "=", "a"), "|", "&", ("id", ">", 10), ("id", "<=", 20), ("id", ">", 90)]
    assert id_bounds(ranges) == (((11, 20), (91, None)), None)
    assert id_bounds(["|", "&", ("id", ">", 10), ("id", "<=", 20), ("id", "<", 5)]) == (((None, 4), (11, 20)), None)
    assert id_bounds(["|", ("id", "<", 5), ("id", ">=", 5)]) == (every, None)  # adjacent: joined
    assert id_bounds([("id", ">", 10), ("id", "<", 5)]) == ((), None)  # nothing can match
    assert id_bounds(["|", ("id", "in", [1, 2]), ("id", "=", 7)]) == (every, frozenset({1, 2, 7}))
    assert id_bounds(["!", ("id", ">", 10)]) == (every, None)


_ID_LEAVES = st.one_of(
    st.tuples(st.just("id"), st.sampled_from([">", ">=", "<", "<=", "="]), st.integers(0, 30)),
    st.tuples(st.just("id"), st.just("in"), st.lists(st.integers(0, 30), max_size=4)),
    st.tuples(st.just("qty"), st.just("="), st.integers(0, 3)),
)
_ID_DOMAINS = st.recursive(
    _ID_LEAVES.map(lambda leaf: [leaf]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: ["&", *pair[0], *pair[1]]),
        st.tuples(inner, inner).map(lambda pair: ["|", *pair[0], *pair[1]]),
        inner.map(lambda domain: ["!", *domain]),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(_ID_DOMAINS)
def test_every_row_a_domain_matches_lies_within_its_id_bounds(domain: list[Any]) -> None:
    rows = [{"id": i, "qty": i % 4} for i in range(31)]
    predicate = compile_domain(domain, "x.model", {"id": "integer", "qty": "integer"})
    spans, ids = id_bounds(domain)
    assert list(spans) == sorted(spans, key=lambda span: -1 if span[0] is None else span[0])
    for row in rows:
        if predicate(row):
            assert any((low is None or row["id"] >= low) and (high is None or row["id"] <= high) for low, high in spans)
            assert ids is None or row["id"] in ids


# -- focused cases: the answers read off Odoo's source ---------------------------------------

PARTNERS = [  # 1 company, 2 its contact (archived), 3 a person without company, 4 archived company
    {"name": "Acme", "is_company": True, "active": True, "parent_id": None},
    {"name": "Anna", "is_company": False, "active": False, "parent_id": 1},
    {"name": "Bob", "is_company": False, "active": True, "parent_id": None},
    {"name": "Old Co", "is_company": True, "active": False, "parent_id": None},
]
TAGS = [{"name": "Hot", "active": True}, {"name": "Cold", "active": False}]
ROWS = [  # x1 → Acme, tags Hot, lines 1 (active) and 2 (archived); x2 → Anna, Cold; x3 → none;
    {"partner_id": 1, "tag_ids": [1]},  # x4 → Old Co, lines 3 (archived)
    {"partner_id": 2, "tag_ids": [2]},
    {"partner_id": None, "tag_ids": []},
    {"partner_id": 4, "tag_ids": [1, 2]},
]
LINES = [
    {"x_id": 1, "qty": 1, "active": True},
    {"x_id": 1, "qty": 2, "active": False},
    {"x_id": 4, "qty": 3, "active": False},
]


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        # many2one paths: the partner is searched with active_test=False (expression.parse,
        # "operator in ('any', 'not any') and field.type == 'many2one'")
        ([("partner_id.is_company", "=", True)], {1, 4}),
        ([("partner_id.name", "ilike", "a")], {1, 2}),
        # negative operators stay inside the path: a partner is needed (x3 has none)
        ([("partner_id.name", "!=", "Acme")], {2, 4}),
        ([("partner_id.name", "not in", ["Acme"])], {2, 4}),
        # '!' before a path is 'not any', which for a many2one also matches NULL
        (["!", ("partner_id.name", "=", "Acme")], {2, 3, 4}),
        ([("partner_id", "not any", [("name", "=", "Acme")])], {2, 3, 4}),
        ([("partner_id.parent_id.name", "=", "Acme")], {2}),
        # x2many paths: the comodel's active_test applies (archived tag Cold is not seen)
        ([("tag_ids.name", "=", "Cold")], set()),
        ([("tag_ids.active", "=", False)], {2, 4}),  # unless the path names 'active'
        ([("tag_ids.name", "!=", "Hot")], set()),
        ([("line_ids.qty", ">", 0)], {1}),
        (["!", ("line_ids.qty", ">", 0)], {2, 3, 4}),
        # x2many compared with False: no related record at all (archived ones count)
        ([("tag_ids", "=", False)], {3}),
        ([("tag_ids", "!=", False)], {1, 2, 4}),
        ([("line_ids", "=", False)], {2, 3}),
        ([("line_ids", "!=", False)], {1, 4}),
        ([("line_ids", "in", [2])], {1}),
        ([("line_ids", "not in", [1, 3])], {2, 3}),
        # Odoo 17 drops False from x2many ids: EXISTS (... IN (NULL)) matches nothing
        ([("tag_ids", "in", [False])], set()),
        ([("tag_ids", "not in", [False])], {1, 2, 3, 4}),
        # child_of / parent_of through parent_id, archived included
        ([("partner_id", "child_of", 1)], {1, 2}),
        ([("partner_id", "parent_of", 2)], {1, 2}),
        (["!", ("partner_id", "child_of", 1)], {4}),  # NOT (partner_id IN ...) is NULL for x3
        ([("partner_id", "child_of", [])], set()),
    ],
)
def test_relations_as_odoo_17_answers(domain: list[Any], expected: set[int]) -> None:
    world = _world(ROWS, PARTNERS, TAGS, LINES)
    assert _ours(world, domain) == expected
    if not any(isinstance(t, tuple) and t[1] in ("child_of", "parent_of") for t in domain):
        assert _sqlite_ids(world, domain) == expected  # the oracle has no hierarchy operators


def test_child_of_on_the_model_itself_is_rewritten_on_id() -> None:
    world = _world(ROWS, PARTNERS, TAGS, LINES)
    in_partners = compile_domain([("parent_id", "child_of", 1)], "y.partner", TYPES["y.partner"], world)
    assert {r["id"] for r in world.rows["y.partner"] if in_partners(_stored(r))} == {1, 2}
    by_id = compile_domain(["!", ("id", "child_of", 1)], "y.partner", TYPES["y.partner"], world)
    assert {r["id"] for r in world.rows["y.partner"] if by_id(_stored(r))} == {3, 4}


def test_odoo_18_counts_lines_as_the_field_context_says() -> None:
    """``('line_ids', '=', False)``: Odoo 17 reads the lines with ``active_test=False``,
    Odoo 18 with the field's context (none here, so archived lines do not count)."""
    assert _ours(_world(ROWS, PARTNERS, TAGS, LINES, version=17), [("line_ids", "=", False)]) == {2, 3}
    assert _ours(_world(ROWS, PARTNERS, TAGS, LINES, version=18), [("line_ids", "=", False)]) == {2, 3, 4}


def test_odoo_19_reads_false_in_x2many_ids_as_no_record() -> None:
    """Odoo 19's ``_RelationalMulti.condition_to_sql``: ``in (False, 1)`` is ``not any``
    OR ``in (1)``; ``not in`` the converse. Odoo 17/18 drop the False."""
    world = _world(ROWS, PARTNERS, TAGS, LINES, version=19)
    assert _ours(world, [("tag_ids", "in", [False])]) == {3}
    assert _ours(world, [("tag_ids", "in", [False, 2])]) == {2, 3, 4}
    assert _ours(world, [("tag_ids", "not in", [False, 2])]) == {1}
    assert _ours(world, [("line_ids", "=", False)]) == {2, 3}  # archived lines count again


@pytest.mark.parametrize(
    ("domain", "in_17", "in_18", "in_19"),
    [
        # Odoo 18's _condition_to_sql / 19's Field._condition_to_sql: an empty number is 0 ...
        ([("qty", "=", 0)], {1}, {1, 3}, {1, 3}),
        ([("qty", "=", False)], {3}, {1, 3}, {1, 3}),
        ([("qty", "!=", 0)], {2}, {2}, {2}),
        ([("qty", "<", 1)], {1}, {1, 3}, {1, 3}),
        ([("qty", ">", -1)], {1, 2}, {1, 2, 3}, {1, 2, 3}),
        # ... and an empty text is '' (18 keeps plain inequalities on texts, 19 does not)
        ([("name", "in", [""])], {1}, {1, 3}, {1, 3}),
        ([("name", "=", False)], {3}, {1, 3}, {1, 3}),
        ([("name", "not like", "")], {3}, set(), set()),
        ([("name", "<", "b")], {1, 2}, {1, 2}, {1, 2, 3}),
        # a relation compared with 0 is compared with False in 18 only
        ([("partner_id", "=", 0)], set(), {3}, set()),
        # 18 keeps only truthy values for a boolean (0 is dropped, not read as False)
        ([("active", "in", [0])], {2, 3}, set(), {2, 3}),
    ],
)
def test_empty_values_compare_as_falsy_from_odoo_18(
    domain: list[Any], in_17: set[int], in_18: set[int], in_19: set[int]
) -> None:
    rows = [  # x1 zero / empty text, x2 set, x3 NULL everywhere
        {"qty": 0, "name": "", "partner_id": 1, "active": True, "tag_ids": []},
        {"qty": 5, "name": "Acme", "partner_id": 2, "active": False, "tag_ids": []},
        {"qty": None, "name": None, "partner_id": None, "active": None, "tag_ids": []},
    ]
    for version, expected in ((17, in_17), (18, in_18), (19, in_19)):
        world = _world(rows, version=version)
        assert _ours(world, domain) == expected, version
        if version < 19:  # the oracle knows 17's and 18's SQL
            assert _sqlite_ids(world, domain) == expected, version
