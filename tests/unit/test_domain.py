"""Domain evaluation agrees with Odoo's SQL translation, checked against SQLite.

The oracle below is written independently of ``odoosync.simulator.domain``: it turns a
domain into the SQL Odoo 17's ``expression.py`` emits (``IS NULL`` rules, ``OR f IS NULL``
for negative operators, ``%…%`` for ``like``, sub-selects for many2many) and lets SQLite
evaluate it over the same rows. Hypothesis generates the rows and the domains.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoosync.simulator.domain import compile_domain, distribute_not, id_bounds, normalize_domain

FIELD_TYPES = {
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
}
SCALARS = [name for name in FIELD_TYPES if name != "tag_ids"]

texts = st.one_of(st.none(), st.sampled_from(["", "Acme", "acme", "ACME corp", "50%", "a_b", "Zoë", "x"]))
rows_strategy = st.lists(
    st.fixed_dictionaries({
        "name": texts,
        "qty": st.one_of(st.none(), st.integers(-3, 3)),
        "amount": st.one_of(st.none(), st.sampled_from([0.0, 1.5, -2.0, 10.0])),
        "active": st.booleans(),
        "partner_id": st.one_of(st.none(), st.integers(1, 4)),
        "day": st.one_of(st.none(), st.sampled_from(["2024-01-01", "2024-02-29", "2025-12-31"])),
        "at": st.one_of(st.none(), st.sampled_from(["2024-01-01 00:00:00", "2024-01-01 23:59:59", "2024-03-01 10:00:00"])),
        "kind": st.one_of(st.none(), st.sampled_from(["lead", "opportunity"])),
        "tag_ids": st.lists(st.integers(1, 4), unique=True, max_size=3),
    }),
    max_size=12,
)


def _value_for(field: str, operator: str) -> st.SearchStrategy[Any]:
    ftype = FIELD_TYPES[field]
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
        "many2one": st.integers(1, 4),
        "char": st.sampled_from(["Acme", "acme", "x", "50%", "Zoë"]),
        "date": st.sampled_from(["2024-01-01", "2024-02-29", "2025-12-31"]),
        "datetime": st.sampled_from(["2024-01-01", "2024-01-01 23:59:59", "2024-03-01 10:00:00"]),
        "selection": st.sampled_from(["lead", "opportunity"]),
        "many2many": st.integers(1, 4),
    }[ftype]


@st.composite
def leaves(draw: st.DrawFn) -> tuple[str, str, Any]:
    field = draw(st.sampled_from(list(FIELD_TYPES)))
    ftype = FIELD_TYPES[field]
    if ftype == "many2many":
        operator = draw(st.sampled_from(["in", "not in", "=", "!="]))
        value = draw(st.lists(st.integers(1, 4), max_size=3) if "in" in operator else st.one_of(st.just(False), st.integers(1, 4)))
        return (field, operator, value)
    operators = ["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
    if ftype in ("char", "selection"):
        operators += ["like", "not like", "ilike", "not ilike", "=like", "=ilike"]
    if ftype == "boolean":
        operators = ["=", "!=", "in", "not in"]
    operator = draw(st.sampled_from(operators))
    return (field, operator, draw(_value_for(field, operator)))


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

def _leaf_sql(leaf: tuple[str, str, Any], params: list[Any]) -> str:
    left, operator, right = leaf
    ftype = FIELD_TYPES[left]
    col = f'"{left}"'
    if ftype == "many2many":
        sub = 'SELECT rid FROM rel'
        if operator in ("=", "!=") and right is False:
            return f"(id NOT IN ({sub}))" if operator == "=" else f"(id IN ({sub}))"
        values = right if isinstance(right, list) else [right]
        ids = [v for v in values if v is not False]
        marks = ",".join("?" * len(ids)) or "NULL"
        params.extend(ids)
        inner = f"(id IN (SELECT rid FROM rel WHERE tid IN ({marks})))"
        return inner if operator in ("=", "in") else f"(NOT {inner})"
    if operator in ("in", "not in"):
        if ftype == "boolean":
            plain = [v for v in (True, False) if v in right]
            check_null = False in right
        else:
            plain = [v for v in right if v is not False]
            check_null = any(v is False for v in right)
        if ftype == "datetime":
            plain = [v + " 00:00:00" if len(v) == 10 else v for v in plain]
        if plain:
            params.extend(plain)
            sql = f"({col} {'IN' if operator == 'in' else 'NOT IN'} ({','.join('?' * len(plain))}))"
        else:
            sql = "0" if operator == "in" else "1"
        if (operator == "in" and check_null) or (operator == "not in" and not check_null):
            sql = f"({sql} OR {col} IS NULL)"
        elif operator == "not in" and check_null:
            sql = f"({sql} AND {col} IS NOT NULL)"
        return sql
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
        params.append(pattern)
        if operator.endswith("ilike"):
            sql = f"(lower({col}) {'NOT LIKE' if operator.startswith('not') else 'LIKE'} lower(?) ESCAPE '\\')"
        else:
            sql = f"({col} {'NOT LIKE' if operator.startswith('not') else 'LIKE'} ? ESCAPE '\\')"
    else:
        params.append(right)
        sql = f"({col} {'<>' if operator == '!=' else operator} ?)"
    if (wildcard and not right) or (right and operator in ("!=", "not like", "not ilike")):
        sql = f"({sql} OR {col} IS NULL)"
    return sql


def _to_sql(tokens: list[Any], params: list[Any]) -> str:
    """Prefix → SQL, after Odoo's distribute_not (which the oracle re-implements below)."""
    def walk(position: int) -> tuple[str, int]:
        token = tokens[position]
        if token == "!":
            inner, nxt = walk(position + 1)
            return f"(NOT {inner})", nxt
        if token in ("&", "|"):
            a, nxt = walk(position + 1)
            b, nxt = walk(nxt)
            return f"({a} {'AND' if token == '&' else 'OR'} {b})", nxt
        return _leaf_sql(token, params), position + 1

    sql, end = walk(0)
    assert end == len(tokens)
    return sql


_NEG = {"<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=", "in": "not in", "not in": "in",
        "like": "not like", "not like": "like", "ilike": "not ilike", "not ilike": "ilike"}


def _push_not(tokens: list[Any]) -> list[Any]:
    """Odoo's distribute_not, written recursively (independent of the simulator's)."""
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
        if operator in _NEG:
            return [(left, _NEG[operator], right)], position + 1
        return ["!", token], position + 1

    result, _ = walk(0, False)
    return result


def _normalized(domain: list[Any]) -> list[Any]:
    tokens = [tuple(t) if isinstance(t, (list, tuple)) else t for t in domain]
    return tokens


def _sqlite_ids(rows: list[dict[str, Any]], domain: list[Any]) -> set[int]:
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA case_sensitive_like = ON")
    connection.execute(
        'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, amount REAL, active INTEGER, '
        'partner_id INTEGER, day TEXT, "at" TEXT, kind TEXT)'
    )
    connection.execute("CREATE TABLE rel (rid INTEGER, tid INTEGER)")
    for row in rows:
        connection.execute(
            'INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [row["id"], row["name"], row["qty"], row["amount"], int(row["active"]), row["partner_id"],
             row["day"], row["at"], row["kind"]],
        )
        connection.executemany("INSERT INTO rel VALUES (?, ?)", [(row["id"], tag) for tag in row["tag_ids"]])
    params: list[Any] = []
    where = _to_sql(_push_not(_normalized(domain)), params)
    found = {row[0] for row in connection.execute(f"SELECT id FROM t WHERE {where}", params)}
    connection.close()
    return found


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    """The simulator's storage convention: empty values are absent/None, x2many lists."""
    return {key: value for key, value in row.items() if value is not None}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, domain=domains())
def test_domain_matches_odoo_sql(rows: list[dict[str, Any]], domain: list[Any]) -> None:
    rows = [dict(row, id=index + 1) for index, row in enumerate(rows)]
    predicate = compile_domain(domain, "x.model", FIELD_TYPES)
    ours = {row["id"] for row in rows if predicate(_stored(row))}
    assert ours == _sqlite_ids(rows, domain), domain


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
        ([("partner_id.name", "=", "x")], "dotted paths"),
        ([("qty", "~", 1)], "Invalid leaf"),
        (["&", ("qty", "=", 1)], "syntactically not correct"),
        (["|"], "syntactically not correct"),
        ([("qty", "=")], "Invalid leaf"),
        ("qty = 1", "syntactically not correct"),
        ([("name", "=", 5)], "Invalid value"),
        ([("partner_id", "=", "Acme")], "many2one fields with ids only"),
        ([42], "Invalid leaf"),
    ],
)
def test_malformed_domains_name_the_problem(domain: Any, message: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        compile_domain(domain, "x.model", FIELD_TYPES)
    assert message in str(info.value)


def test_id_bounds_narrow_only_top_level_conjunctions() -> None:
    assert id_bounds([("id", ">", 10), ("id", "<=", 20), ("name", "=", "a")]) == (11, 20, None)
    assert id_bounds([("id", "in", [3, 4, 5]), ("id", "=", 4)]) == (None, None, frozenset({4}))
    assert id_bounds(["|", ("id", ">", 10), ("qty", "=", 1)]) == (None, None, None)
