"""Odoo search domains, evaluated in Python the way Odoo 17's SQL evaluates them.

A domain is Odoo's prefix-notation filter: a list of leaves ``(field, operator, value)``
and the operators ``'&'``, ``'|'``, ``'!'`` (leaves side by side are joined with an
implicit ``'&'``). The simulator needs the same answers Odoo's ``expression.py`` gives,
including its NULL rules, which are easy to get wrong:

* ``(f, '=', False)`` is ``f IS NULL``; ``(f, '!=', False)`` is ``f IS NOT NULL``;
* ``!=``, ``not like``, ``not ilike`` and ``not in`` also match rows where ``f`` is NULL
  (``not in`` only when ``False`` is not in the list);
* ``in`` matches NULL when the list contains ``False``;
* ``like``/``ilike`` wrap the value in ``%…%`` (the value's own ``%``/``_`` stay wildcards),
  ``=like``/``=ilike`` use it as a raw SQL pattern; an empty ``like`` value matches all;
* a boolean ``= False`` matches NULL and false; a date-only value compared with a
  datetime field means midnight (``23:59:59`` for ``>`` and ``<=``);
* x2many fields match when any related id matches (``in``) / none does (``not in``).

This module is pure: it knows field *types* only (``{name: type}``), never records.
Rows are mappings holding the simulator's stored values (``None`` for empty, an ``int``
for a many2one, a list of ids for x2many, strings for dates ``YYYY-MM-DD`` and
datetimes ``YYYY-MM-DD HH:MM:SS``). Errors are ``ValueError`` with Odoo's own messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "OPERATORS",
    "Predicate",
    "compile_domain",
    "normalize_domain",
    "distribute_not",
    "like_to_regex",
    "id_bounds",
]

Predicate = Callable[[Mapping[str, Any]], bool]

OPERATORS = (
    "=", "!=", "<", "<=", ">", ">=", "=?",
    "in", "not in",
    "like", "not like", "ilike", "not ilike", "=like", "=ilike",
)
_NEGATIVE = ("!=", "not like", "not ilike", "not in")
_X2MANY = ("one2many", "many2many")
_TRUE_LEAF = (1, "=", 1)
_FALSE_LEAF = (0, "=", 1)


def _is_leaf(element: Any) -> bool:
    return isinstance(element, (list, tuple)) and len(element) == 3


def normalize_domain(domain: Sequence[Any]) -> list[Any]:
    """Return ``domain`` with explicit ``'&'`` operators, as Odoo's ``normalize_domain``.

    Raises ``ValueError`` for anything that is not a well-formed prefix domain.
    """
    if not isinstance(domain, (list, tuple)):
        raise ValueError(f"Domain {domain!r} is syntactically not correct.")
    if not domain:
        return [_TRUE_LEAF]
    result: list[Any] = []
    expected = 1
    arity = {"!": 1, "&": 2, "|": 2}
    for token in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if isinstance(token, (list, tuple)):
            if not _is_leaf(token):
                raise ValueError(f"Invalid leaf {token!r}")
            expected -= 1
            result.append(tuple(token))
        elif isinstance(token, str) and token in arity:
            expected += arity[token] - 1
            result.append(token)
        else:
            raise ValueError(f"Invalid leaf {token!r}")
    if expected != 0:
        raise ValueError(f"Domain {list(domain)!r} is syntactically not correct.")
    return result


@lru_cache(maxsize=512)
def like_to_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """Translate a SQL LIKE pattern (``%``, ``_``, ``\\`` escapes) to an anchored regex."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile("".join(out) + r"\Z", flags)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _datetime_value(value: Any, operator: str) -> Any:
    if isinstance(value, str) and len(value) == 10:
        return value + (" 23:59:59" if operator in (">", "<=") else " 00:00:00")
    return value


def _compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == ">":
        return left > right
    return left >= right


def _leaf_predicate(model: str, leaf: tuple, field_types: Mapping[str, str]) -> Predicate:
    if leaf == _TRUE_LEAF:
        return lambda row: True
    if leaf == _FALSE_LEAF:
        return lambda row: False
    left, operator, right = leaf
    if not isinstance(left, str) or not left:
        raise ValueError(f"Invalid leaf {leaf!r}")
    if "." in left:
        raise ValueError(
            f"Invalid field {model}.{left} in leaf {leaf!r}: the simulator does not follow "
            "dotted paths; filter on the related model instead"
        )
    if left not in field_types:
        raise ValueError(f"Invalid field {model}.{left} in leaf {leaf!r}")
    if not isinstance(operator, str) or operator.lower() not in OPERATORS:
        raise ValueError(f"Invalid leaf {leaf!r}")
    operator = operator.lower()
    ftype = field_types[left]

    if operator == "=?":
        if right is False or right is None:
            return lambda row: True
        operator = "="

    if ftype in _X2MANY:
        return _x2many_predicate(left, operator, right, leaf)

    if operator in ("in", "not in"):
        return _in_predicate(left, operator, right, ftype, leaf)

    if ftype == "boolean" and operator in ("=", "!=") and isinstance(right, bool):
        wanted = (not right) if operator == "!=" else right
        return (lambda row: row.get(left) is True) if wanted else (lambda row: not row.get(left))

    if operator == "=" and (right is False or right is None):
        return lambda row: row.get(left) is None
    if operator == "!=" and (right is False or right is None):
        return lambda row: row.get(left) is not None

    null_matches = False
    if operator in ("like", "not like", "ilike", "not ilike", "=like", "=ilike"):
        if isinstance(right, (list, tuple, dict)):
            raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
        wildcard = operator in ("like", "not like", "ilike", "not ilike")
        pattern = f"%{_as_text(right) if right is not False and right is not None else ''}%" if wildcard else _as_text(right)
        regex = like_to_regex(pattern, case_sensitive=not operator.endswith("ilike"))
        negate = operator.startswith("not")
        null_matches = (wildcard and not right) or (bool(right) and negate)

        def like(row: Mapping[str, Any]) -> bool:
            value = row.get(left)
            if value is None:
                return null_matches
            found = regex.match(_as_text(value)) is not None
            return (not found) if negate else found

        return like

    if isinstance(right, (list, tuple, dict)):
        raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
    if ftype == "datetime":
        right = _datetime_value(right, operator)
    null_matches = bool(right) and operator in _NEGATIVE
    if ftype in ("char", "text", "html", "selection", "date", "datetime") and not isinstance(right, str):
        raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
    if ftype in ("integer", "float", "many2one", "monetary", "many2one_reference") and (
        isinstance(right, str) or isinstance(right, bool)
    ):
        if ftype == "many2one" and isinstance(right, str):
            raise ValueError(
                f"Invalid value {right!r} in domain term {leaf!r}: the simulator compares "
                "many2one fields with ids only"
            )
        if not (isinstance(right, bool) and ftype in ("integer", "float", "monetary")):
            raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")

    def compare(row: Mapping[str, Any]) -> bool:
        value = row.get(left)
        if value is None:
            return null_matches
        return _compare(operator, value, right)

    return compare


def _in_predicate(left: str, operator: str, right: Any, ftype: str, leaf: tuple) -> Predicate:
    if isinstance(right, bool):
        want_set = (operator == "in") == right
        return (lambda row: row.get(left) is not None) if want_set else (lambda row: row.get(left) is None)
    if not isinstance(right, (list, tuple)):
        right = [right]
    if any(isinstance(item, (list, tuple, dict)) for item in right):
        raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
    if ftype == "boolean":
        params = {item for item in (True, False) if item in right}
        check_null = False in right
    else:
        params = {item for item in right if item is not False and item is not None}
        check_null = any(item is False or item is None for item in right)
    if ftype == "datetime":
        params = {_datetime_value(item, "=") for item in params}
    if operator == "in":
        return lambda row: (row.get(left) in params) or (check_null and row.get(left) is None)
    if check_null:
        return lambda row: row.get(left) is not None and row.get(left) not in params
    return lambda row: row.get(left) is None or row.get(left) not in params


def _x2many_predicate(left: str, operator: str, right: Any, leaf: tuple) -> Predicate:
    if operator in ("=", "!=") and (right is False or right is None):
        empty = operator == "="
        return lambda row: (not row.get(left)) == empty
    if operator in ("=", "in", "!=", "not in"):
        values = right if isinstance(right, (list, tuple)) else [right]
        if any(not isinstance(v, int) or isinstance(v, bool) for v in values if v is not False):
            raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
        wanted = {v for v in values if v is not False}
        match_empty = False in values
        positive = operator in ("=", "in")

        def any_match(row: Mapping[str, Any]) -> bool:
            ids = row.get(left) or ()
            found = bool(wanted.intersection(ids)) or (match_empty and not ids)
            return found if positive else not found

        return any_match
    raise ValueError(
        f"Invalid leaf {leaf!r}: the simulator supports =, !=, in, not in on x2many fields"
    )


_NEGATION = {
    "<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=",
    "in": "not in", "not in": "in", "like": "not like", "not like": "like",
    "ilike": "not ilike", "not ilike": "ilike",
}


def distribute_not(tokens: list[Any]) -> list[Any]:
    """Push ``'!'`` into the leaves as Odoo does (``!(f = 1)`` becomes ``f != 1``).

    This is why ``'!'`` is not a plain complement in Odoo: ``['!', ('f', '=', 1)]``
    matches rows where ``f`` is NULL, ``['!', ('f', '>', 1)]`` does not. A leaf whose
    operator has no negation (``=like``, ``=ilike``, ``=?``) keeps its ``'!'``.
    """
    result: list[Any] = []
    stack = [False]
    for token in tokens:
        negate = stack.pop()
        if isinstance(token, tuple):
            if not negate:
                result.append(token)
            elif token == _TRUE_LEAF or token == _FALSE_LEAF:
                result.append(_FALSE_LEAF if token == _TRUE_LEAF else _TRUE_LEAF)
            elif isinstance(token[1], str) and token[1].lower() in _NEGATION:
                result.append((token[0], _NEGATION[token[1].lower()], token[2]))
            else:
                result.extend(["!", token])
        elif token == "!":
            stack.append(not negate)
        else:
            result.append({"&": "|", "|": "&"}[token] if negate else token)
            stack.extend([negate, negate])
    return result


def compile_domain(domain: Sequence[Any], model: str, field_types: Mapping[str, str]) -> Predicate:
    """Check ``domain`` against the model's fields and return a row predicate.

    Raises ``ValueError`` (Odoo's wording) for unknown fields, bad operators and
    malformed domains, before any row is looked at.
    """
    tokens = distribute_not(normalize_domain(domain))
    stack: list[Predicate] = []
    for index in range(len(tokens) - 1, -1, -1):
        token = tokens[index]
        if token == "!":  # only before a leaf without a negated operator: SQL's NOT(NULL) is NULL
            inner = stack.pop()
            left = tokens[index + 1][0]
            stack.append(lambda row, inner=inner, left=left: row.get(left) is not None and not inner(row))
        elif token in ("&", "|"):
            first, second = stack.pop(), stack.pop()
            if token == "&":
                stack.append(lambda row, a=first, b=second: a(row) and b(row))
            else:
                stack.append(lambda row, a=first, b=second: a(row) or b(row))
        else:
            stack.append(_leaf_predicate(model, token, field_types))
    [predicate] = stack
    return predicate


def id_bounds(domain: Sequence[Any]) -> tuple[int | None, int | None, frozenset[int] | None]:
    """Bounds on ``id`` implied by the domain's top-level AND leaves (for a fast scan).

    Returns ``(lowest, highest, ids)``: every matching row has ``lowest <= id <= highest``
    and, when ``ids`` is not None, ``id in ids``. The domain must be valid.
    """
    tokens = normalize_domain(domain)
    if any(token in ("|", "!") for token in tokens):
        return None, None, None
    low: int | None = None
    high: int | None = None
    ids: frozenset[int] | None = None
    for token in tokens:
        if token == "&" or token in (_TRUE_LEAF, _FALSE_LEAF):
            continue
        left, operator, right = token
        if left != "id" or isinstance(right, bool):
            continue
        if operator in (">", ">=") and isinstance(right, int):
            bound = right + 1 if operator == ">" else right
            low = bound if low is None else max(low, bound)
        elif operator in ("<", "<=") and isinstance(right, int):
            bound = right - 1 if operator == "<" else right
            high = bound if high is None else min(high, bound)
        elif operator == "=" and isinstance(right, int):
            ids = frozenset([right]) if ids is None else ids & {right}
        elif operator == "in" and isinstance(right, (list, tuple)):
            wanted = frozenset(v for v in right if isinstance(v, int) and not isinstance(v, bool))
            ids = wanted if ids is None else ids & wanted
    return low, high, ids
