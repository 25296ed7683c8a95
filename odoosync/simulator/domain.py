"""Odoo search domains, evaluated in Python the way Odoo's SQL evaluates them.

A domain is Odoo's prefix-notation filter: a list of leaves ``(field, operator, value)``
and the operators ``'&'``, ``'|'``, ``'!'`` (leaves side by side are joined with an
implicit ``'&'``). The simulator needs the same answers Odoo's ``expression.py`` (17, 18)
and ``orm/domains.py`` (19) give, including their NULL rules, which are easy to get wrong
(Odoo 17's first):

* ``(f, '=', False)`` is ``f IS NULL``; ``(f, '!=', False)`` is ``f IS NOT NULL``;
* ``!=``, ``not like``, ``not ilike`` and ``not in`` also match rows where ``f`` is NULL
  (``not in`` only when ``False`` is not in the list);
* ``in`` matches NULL when the list contains ``False``;
* ``like``/``ilike`` wrap the value in ``%…%`` (the value's own ``%``/``_`` stay wildcards),
  ``=like``/``=ilike`` use it as a raw SQL pattern; an empty ``like`` value matches all;
* a boolean ``= False`` matches NULL and false; a date-only value compared with a
  datetime field means midnight (``23:59:59`` for ``>`` and ``<=``);
* from Odoo 18 on, an empty number or text compares as ``0`` or ``''`` (``= 0``,
  ``in ['']`` and ``< 1`` match it, ``not like ''`` matches nothing); Odoo 19 turns
  ``=``/``!=`` into ``in``/``not in`` and applies the same to text inequalities.

Relations (Odoo 17's ``_anyfy_leaves`` and the ``any`` branches of ``expression.parse``):

* a dotted path ``('partner_id.name', op, v)`` is ``('partner_id', 'any', [('name', op,
  v)])``: a many2one matches when its record matches (searched with ``active_test`` off),
  an x2many when *any* related record matches (``active_test`` as the call says); the
  operator stays inside, so ``('partner_id.name', '!=', 'x')`` needs a partner, and
  ``'!'`` before a path gives ``not any`` (a many2one ``not any`` also matches NULL);
* x2many with ids match when any related id matches (``in``) / none does (``not in``);
  ``(x2many, '=', False)`` means no related record at all, ``'!='`` at least one;
* ``child_of`` / ``parent_of`` follow ``parent_id`` (``sudo``, archived included).

Which related records count (archived ones, the field's own domain, ``False`` in an id
list) differs a little between Odoo 17, 18 and 19; ``version`` picks the rules (see
``_Compiler._one2many_scope``).

The module knows no records: field types come as ``{name: type}`` and everything about
related models goes through a :class:`Related` (the simulator's tables, or a test's rows).
Rows are mappings holding the simulator's stored values (``None`` for empty, an ``int``
for a many2one, a list of ids for a many2many, nothing for a one2many, strings for dates
``YYYY-MM-DD`` and datetimes ``YYYY-MM-DD HH:MM:SS``). Errors are ``ValueError`` with
Odoo's own messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

__all__ = [
    "OPERATORS",
    "Predicate",
    "Relation",
    "Related",
    "compile_domain",
    "normalize_domain",
    "distribute_not",
    "like_to_regex",
    "id_bounds",
    "Span",
]

Predicate = Callable[[Mapping[str, Any]], bool]

OPERATORS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=?",
    "in",
    "not in",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
    "any",
    "not any",
    "child_of",
    "parent_of",
)
_NEGATIVE = ("!=", "not like", "not ilike", "not in")
_X2MANY = ("one2many", "many2many")
_RELATIONAL = ("many2one", *_X2MANY)
_TRUE_LEAF = (1, "=", 1)
_FALSE_LEAF = (0, "=", 1)


@dataclass(frozen=True)
class Relation:
    """What a domain needs to know about one relational field."""

    type: str  # many2one, one2many, many2many
    comodel: str
    inverse: str | None = None  # one2many: the comodel's field pointing back
    inverse_is_int: bool = False  # that field is a many2one_reference (a res_model/res_id pair)
    domain: tuple[Any, ...] = ()  # the field's domain on the comodel (with the res_model filter)
    active_test: bool | None = None  # the field's context, None: the call's
    auto_join: bool = False  # Odoo follows the field without the comodel's record rules


class Related(Protocol):
    """The records behind a domain's relations (one call's view of the database)."""

    def field_types(self, model: str) -> Mapping[str, str]:
        """``{field: type}`` of ``model``."""
        ...

    def relation(self, model: str, field: str) -> Relation:
        """The relational field ``model.field``."""
        ...

    def search(
        self, model: str, domain: Sequence[Any], *, active_test: bool | None = None, sudo: bool = False
    ) -> Sequence[Mapping[str, Any]]:
        """Stored rows of ``model`` matching ``domain``, as ``search`` finds them in this
        call (``active_test`` None: the call's context; ``sudo``: no record rules)."""
        ...


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


def _and(first: Sequence[Any], second: Sequence[Any]) -> list[Any]:
    """The conjunction of two domains (an empty one is ``TRUE``)."""
    if not first:
        return list(second)
    if not second:
        return list(first)
    return ["&", *normalize_domain(first), *normalize_domain(second)]


def _anyfy(tokens: list[Any], model: str, field_types: Mapping[str, str]) -> list[Any]:
    """Dotted paths become ``any`` leaves, as Odoo's ``_anyfy_leaves``:
    ``('a.b', op, v)`` → ``('a', 'any', [('b', op, v)])`` (deeper paths are split again
    when the comodel's domain is compiled)."""
    result: list[Any] = []
    for token in tokens:
        if isinstance(token, tuple) and isinstance(token[0], str) and "." in token[0]:
            left, operator, right = token
            head, rest = left.split(".", 1)
            if head not in field_types:
                raise ValueError(f"Invalid field {model}.{head} in leaf {token!r}")
            if field_types[head] not in _RELATIONAL:
                raise ValueError(f"Invalid field {model}.{left} in leaf {token!r}")
            token = (head, "any", [(rest, operator, right)])
        result.append(token)
    return result


_NEGATION = {
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


def distribute_not(tokens: list[Any]) -> list[Any]:
    """Push ``'!'`` into the leaves as Odoo does (``!(f = 1)`` becomes ``f != 1``).

    This is why ``'!'`` is not a plain complement in Odoo: ``['!', ('f', '=', 1)]``
    matches rows where ``f`` is NULL, ``['!', ('f', '>', 1)]`` does not. A leaf whose
    operator has no negation (``=like``, ``=ilike``, ``=?``, ``child_of``, ``parent_of``)
    keeps its ``'!'``, and so does a dotted path (it becomes ``not any`` once split).
    """
    result: list[Any] = []
    stack = [False]
    for token in tokens:
        negate = stack.pop()
        if isinstance(token, tuple):
            if not negate:
                result.append(token)
            elif token in (_TRUE_LEAF, _FALSE_LEAF):
                result.append(_FALSE_LEAF if token == _TRUE_LEAF else _TRUE_LEAF)
            elif (
                isinstance(token[1], str)
                and token[1].lower() in _NEGATION
                and not (isinstance(token[0], str) and "." in token[0])
            ):
                result.append((token[0], _NEGATION[token[1].lower()], token[2]))
            else:
                result.extend(["!", token])
        elif token == "!":
            stack.append(not negate)
        else:
            result.append({"&": "|", "|": "&"}[token] if negate else token)
            stack.extend([negate, negate])
    return result


_FALSY = {"integer": 0, "float": 0.0, "monetary": 0.0, "char": "", "text": "", "html": ""}
"""Odoo 18+: the value an empty column of these types compares as (``falsy_value`` in 19)."""
_NUMBERS = ("integer", "float", "monetary")


def _in_predicate(left: str, operator: str, right: Any, ftype: str, leaf: tuple, version: int, falsy: Any) -> Predicate:
    if isinstance(right, bool):
        want_set = (operator == "in") == right
        return (lambda row: row.get(left) is not None) if want_set else (lambda row: row.get(left) is None)
    if not isinstance(right, (list, tuple)):
        right = [right]
    if any(isinstance(item, (list, tuple, dict)) for item in right):
        raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
    if version == 18 and ftype == "boolean":  # only truthy values count, then False if asked
        truthy = [item for item in right if item is not False and item is not None]
        check_null = len(truthy) < len(right)
        params = ({True} if any(truthy) else set()) | ({False} if check_null else set())
    elif ftype == "boolean":
        params = {item for item in (True, False) if item in right}
        check_null = False in right
    else:
        params = {item for item in right if item is not False and item is not None}
        check_null = any(item is False or item is None for item in right)
        if falsy is not None:  # Odoo 18+: ``in [False]`` also means 0 / '', and 0 / '' also NULL
            if check_null:
                params.add(falsy)
            check_null = check_null or falsy in params
    if ftype == "datetime":
        params = {_datetime_value(item, "=") for item in params}
    if operator == "in":
        return lambda row: (row.get(left) in params) or (check_null and row.get(left) is None)
    if check_null:
        return lambda row: row.get(left) is not None and row.get(left) not in params
    return lambda row: row.get(left) is None or row.get(left) not in params


def _scalar_predicate(left: str, operator: str, right: Any, ftype: str, leaf: tuple, version: int) -> Predicate:
    """A leaf on a stored scalar or many2one column (:func:`_column_predicate`).

    Datetimes are stored with microseconds (``write_date`` is the transaction's start)
    and served cut to the second. Odoo 16-18 compare the stored value, so ``= S`` misses
    a row served as ``S`` and ``> S`` matches it; Odoo 19 compares whole seconds (``= S``
    matches, ``> S`` does not), as recorded from real servers."""
    predicate = _column_predicate(left, operator, right, ftype, leaf, version)
    if ftype != "datetime" or version < 19:
        return predicate
    return lambda row: predicate({left: _whole_second(row.get(left))})


def _whole_second(value: Any) -> Any:
    return value[:19] if isinstance(value, str) else value


def _column_predicate(left: str, operator: str, right: Any, ftype: str, leaf: tuple, version: int) -> Predicate:
    """A leaf on a stored scalar or many2one column: Odoo 17's ``__leaf_to_sql``; from
    Odoo 18 on (``_condition_to_sql``), an empty number or text compares as ``0`` or
    ``''``: ``= 0`` and ``in ['']`` match it, ``< 1`` too, ``not like ''`` nothing."""
    falsy = _FALSY.get(ftype) if version >= 18 and left != "id" else None
    if operator in ("in", "not in"):
        return _in_predicate(left, operator, right, ftype, leaf, version, falsy)

    if ftype == "boolean" and operator in ("=", "!=") and isinstance(right, bool):
        wanted = (not right) if operator == "!=" else right
        return (lambda row: row.get(left) is True) if wanted else (lambda row: not row.get(left))

    if version == 18 and (ftype == "many2one" or left == "id") and operator in ("=", "!=") and not right:
        right = False  # Odoo 18 compares a relation with 0 as with False
    if operator in ("=", "!=") and (right is False or right is None):
        if falsy is None:
            if operator == "=":
                return lambda row: row.get(left) is None
            return lambda row: row.get(left) is not None
        right = falsy

    negate = operator in _NEGATIVE
    if operator in ("like", "not like", "ilike", "not ilike", "=like", "=ilike"):
        if isinstance(right, (list, tuple, dict)):
            raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
        wildcard = operator in ("like", "not like", "ilike", "not ilike")
        if version >= 18 and wildcard and not right:
            return (lambda row: False) if negate else (lambda row: True)
        pattern = (
            f"%{_as_text(right) if right is not False and right is not None else ''}%" if wildcard else _as_text(right)
        )
        regex = like_to_regex(pattern, case_sensitive=not operator.endswith("ilike"))
        if version >= 18:
            null_matches = bool(right) == negate
        else:
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
    if ftype in ("char", "text", "html", "selection", "date", "datetime") and not isinstance(right, str):
        raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
    if ftype in ("integer", "float", "many2one", "monetary", "many2one_reference") and (isinstance(right, (str, bool))):
        if ftype == "many2one" and isinstance(right, str):
            raise ValueError(
                f"Invalid value {right!r} in domain term {leaf!r}: the simulator compares many2one fields with ids only"
            )
        if not (isinstance(right, bool) and ftype in ("integer", "float", "monetary")):
            raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
    if version >= 19 and operator in ("=", "!="):  # Odoo 19 rewrites them as 'in' / 'not in'
        return _in_predicate(left, "in" if operator == "=" else "not in", [right], ftype, leaf, version, falsy)
    inequality = operator in ("<", "<=", ">", ">=")
    if version < 18:
        null_matches = bool(right) and negate
    elif inequality:  # NULL compares as the falsy value: numbers from 18, texts too from 19
        null_matches = falsy is not None and (ftype in _NUMBERS or version >= 19) and _compare(operator, falsy, right)
    else:
        null_matches = bool(right) == negate

    def compare(row: Mapping[str, Any]) -> bool:
        value = row.get(left)
        if value is None:
            return null_matches
        return _compare(operator, value, right)

    return compare


def _ids_in(right: Any, leaf: tuple) -> tuple[set[int], bool]:
    """The ids of an x2many or hierarchy value (an id or a list) and whether it holds False."""
    values = right if isinstance(right, (list, tuple)) else [right]
    if any((not isinstance(v, int) or isinstance(v, bool)) and v is not False for v in values):
        raise ValueError(
            f"Invalid value {right!r} in domain term {leaf!r}: the simulator compares relational fields with ids only"
        )
    return {v for v in values if v is not False}, False in values


def _negated(inner: Predicate, nullable: str | None) -> Predicate:
    if nullable is None:
        return lambda row: not inner(row)
    # SQL's NOT(NULL) is NULL: a NULL column matches neither way
    return lambda row: row.get(nullable) is not None and not inner(row)


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda row: first(row) and second(row)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda row: first(row) or second(row)


class _Compiler:
    """Turns one model's normalized, negation-free domain into a predicate."""

    def __init__(self, model: str, field_types: Mapping[str, str], related: Related | None, version: int):
        self.model = model
        self.field_types = field_types
        self.related = related
        self.version = version

    def compile(self, tokens: list[Any]) -> Predicate:
        stack: list[Predicate] = []
        for index in range(len(tokens) - 1, -1, -1):
            token = tokens[index]
            if token == "!":  # only before a leaf without a negated operator
                inner, nullable = stack.pop(), self._null_column(tokens[index + 1])
                stack.append(_negated(inner, nullable))
            elif token in ("&", "|"):
                first, second = stack.pop(), stack.pop()
                stack.append(_both(first, second) if token == "&" else _either(first, second))
            else:
                stack.append(self.leaf(token))
        [predicate] = stack
        return predicate

    def _null_column(self, leaf: tuple) -> str | None:
        """The column whose NULL makes the leaf's SQL NULL (None: the SQL is never NULL)."""
        left, operator = leaf[0], leaf[1].lower()
        ftype = self.field_types.get(left)
        if left == "id" or ftype in _X2MANY:
            return None
        if operator in ("child_of", "parent_of") and self._relation(left, leaf).comodel == self.model:
            return None  # rewritten on ``id``
        return left

    def leaf(self, leaf: tuple) -> Predicate:
        if leaf == _TRUE_LEAF:
            return lambda row: True
        if leaf == _FALSE_LEAF:
            return lambda row: False
        left, operator, right = leaf
        if not isinstance(left, str) or not left:
            raise ValueError(f"Invalid leaf {leaf!r}")
        if left not in self.field_types:
            raise ValueError(f"Invalid field {self.model}.{left} in leaf {leaf!r}")
        if not isinstance(operator, str) or operator.lower() not in OPERATORS:
            raise ValueError(f"Invalid leaf {leaf!r}")
        operator = operator.lower()
        ftype = self.field_types[left]

        if operator == "=?":
            if right is False or right is None:
                return lambda row: True
            operator = "="
        if operator in ("any", "not any"):
            return self._any(left, operator, right, ftype, leaf)
        if operator in ("child_of", "parent_of"):
            return self._hierarchy(left, operator, right, ftype, leaf)
        if ftype in _X2MANY:
            return self._x2many(left, operator, right, ftype, leaf)
        return _scalar_predicate(left, operator, right, ftype, leaf, self.version)

    # -- relations -----------------------------------------------------------------------

    def _relation(self, left: str, leaf: tuple) -> Relation:
        if self.field_types.get(left) not in _RELATIONAL:
            raise ValueError(f"Invalid leaf {leaf!r}: {self.model}.{left} is not a relational field")
        if self.related is None:
            raise ValueError(f"Invalid leaf {leaf!r}: following {self.model}.{left} needs the related records")
        return self.related.relation(self.model, left)

    def _rows(
        self, model: str, domain: Sequence[Any], active_test: bool | None, sudo: bool
    ) -> Sequence[Mapping[str, Any]]:
        assert self.related is not None
        return self.related.search(model, domain, active_test=active_test, sudo=sudo)

    def _ids(self, model: str, domain: Sequence[Any], active_test: bool | None, sudo: bool) -> frozenset[int]:
        return frozenset(row["id"] for row in self._rows(model, domain, active_test, sudo))

    def _owners(self, rel: Relation, domain: Sequence[Any], active_test: bool | None, sudo: bool) -> frozenset[int]:
        """one2many: ids of this model's records having a line among ``domain``."""
        assert rel.inverse is not None
        rows = self._rows(rel.comodel, _and([(rel.inverse, "!=", False)], domain), active_test, sudo)
        return frozenset(row[rel.inverse] for row in rows)

    def _one2many_scope(self, rel: Relation, purpose: str) -> tuple[tuple[Any, ...], bool | None, bool]:
        """Which lines count for a one2many leaf: ``(domain, active_test, sudo)``.

        ``purpose`` is ``"ids"`` (``in``/``not in`` ids) or ``"empty"`` (``= False``).
        Odoo 17/18 (``expression.parse``): ids are taken as they are, except for a
        res_model/res_id pair (``mail.activity.res_id``), whose lines are searched with
        the field's domain; ``= False`` counts every line (17: archived too; 18: as the
        field's context says), the pair's with its domain and the call's ``active_test``.
        Odoo 19 (``_RelationalMulti.condition_to_sql``): ``sudo``, archived included, the
        field's domain applied.
        """
        if self.version >= 19:
            return rel.domain, False, True
        if rel.inverse_is_int:
            return rel.domain, rel.active_test if self.version >= 18 else None, False
        if purpose == "ids":
            return (), False, True
        return (), False if self.version == 17 else rel.active_test, True

    def _any(self, left: str, operator: str, right: Any, ftype: str, leaf: tuple) -> Predicate:
        """``any`` / ``not any``: the related records matching a domain on the comodel."""
        if not isinstance(right, (list, tuple)):
            raise ValueError(f"Invalid value {right!r} in domain term {leaf!r}")
        rel = self._relation(left, leaf)
        positive = operator == "any"
        if ftype == "many2one":  # archived targets count; NULL is "not any"
            ids = self._ids(rel.comodel, right, False, rel.auto_join)
            if positive:
                return lambda row: row.get(left) in ids
            return lambda row: row.get(left) not in ids
        # Odoo 18 added the field's own domain (17 has it only on res_model/res_id lines)
        with_field_domain = self.version >= 18 or rel.inverse_is_int
        domain = _and(rel.domain, right) if with_field_domain else right
        active_test = rel.active_test if self.version >= 18 else None
        if ftype == "many2many":
            ids = self._ids(rel.comodel, domain, active_test, rel.auto_join)
            return lambda row: bool(ids.intersection(row.get(left) or ())) == positive
        owners = self._owners(rel, domain, active_test, rel.auto_join)
        return lambda row: (row["id"] in owners) == positive

    def _x2many(self, left: str, operator: str, right: Any, ftype: str, leaf: tuple) -> Predicate:
        """x2many compared with ids or ``False`` (no ``name_search`` on strings)."""
        if operator not in ("=", "!=", "in", "not in"):
            raise ValueError(
                f"Invalid leaf {leaf!r}: the simulator supports =, !=, in, not in, any, not any, "
                "child_of, parent_of on x2many fields"
            )
        positive = operator in ("=", "in")
        if operator in ("=", "!=") and (right is False or right is None):
            return self._x2many_empty(left, ftype, leaf, empty=positive)
        wanted, has_false = _ids_in(right, leaf)
        holds = self._x2many_holds(left, ftype, frozenset(wanted), leaf)
        if has_false and self.version >= 19:  # ``in [False, 3]``: no line at all, or line 3
            empty = self._x2many_empty(left, ftype, leaf, empty=True)
            return lambda row: (holds(row) or empty(row)) == positive
        # Odoo 17/18 drop False from the ids (``in [False]`` matches nothing)
        return lambda row: holds(row) == positive

    def _x2many_holds(self, left: str, ftype: str, wanted: frozenset[int], leaf: tuple) -> Predicate:
        """Whether a row's x2many holds one of ``wanted`` (the relation table for a
        many2many, the lines' inverse column for a one2many)."""
        if ftype == "many2many":
            return lambda row: bool(wanted.intersection(row.get(left) or ()))
        rel = self._relation(left, leaf)
        domain, active_test, sudo = self._one2many_scope(rel, "ids")
        owners = (
            self._owners(rel, _and([("id", "in", sorted(wanted))], domain), active_test, sudo)
            if wanted
            else frozenset()
        )
        return lambda row: row["id"] in owners

    def _x2many_empty(self, left: str, ftype: str, leaf: tuple, *, empty: bool) -> Predicate:
        if ftype == "many2many":
            return lambda row: (not row.get(left)) == empty
        rel = self._relation(left, leaf)
        domain, active_test, sudo = self._one2many_scope(rel, "empty")
        owners = self._owners(rel, domain, active_test, sudo)
        return lambda row: (row["id"] not in owners) == empty

    def _hierarchy(self, left: str, operator: str, right: Any, ftype: str, leaf: tuple) -> Predicate:
        """``child_of`` / ``parent_of``: the given ids and their descendants / ancestors
        through ``parent_id`` (searched with ``sudo``, archived included)."""
        ids, _ = _ids_in(right, leaf) if right is not False else (set(), False)
        ids.discard(0)
        if left == "id":
            model = self.model
        else:
            rel = self._relation(left, leaf)
            model = rel.comodel
            if ftype == "one2many" and model == self.model:
                raise ValueError(
                    f"Invalid leaf {leaf!r}: the simulator does not follow {operator} on a one2many to its own model"
                )
        if not ids:
            return lambda row: False
        family = self._family(model, ids, down=operator == "child_of", leaf=leaf)
        if left == "id" or (ftype == "many2one" and model == self.model):
            return lambda row: row["id"] in family  # Odoo rewrites it on ``id``
        if ftype == "many2one":
            return lambda row: row.get(left) in family
        return self._x2many_holds(left, ftype, family, leaf)

    def _family(self, model: str, ids: set[int], *, down: bool, leaf: tuple) -> frozenset[int]:
        if self.related is None:
            raise ValueError(f"Invalid leaf {leaf!r}: following {model}.parent_id needs the related records")
        types = self.related.field_types(model)
        if types.get("parent_id") != "many2one" or self.related.relation(model, "parent_id").comodel != model:
            raise ValueError(f"Invalid leaf {leaf!r}: {model} has no parent_id hierarchy")
        found: set[int] = set()
        frontier = set(ids)
        while frontier:
            found |= frontier
            if down:
                rows = self._rows(model, [("parent_id", "in", sorted(frontier))], False, True)
                frontier = {row["id"] for row in rows} - found
            else:
                rows = self._rows(model, [("id", "in", sorted(frontier))], False, True)
                frontier = {row["parent_id"] for row in rows if row.get("parent_id")} - found
        return frozenset(found)


def compile_domain(
    domain: Sequence[Any],
    model: str,
    field_types: Mapping[str, str],
    related: Related | None = None,
    *,
    version: int = 17,
) -> Predicate:
    """Check ``domain`` against the model's fields and return a row predicate.

    ``related`` answers for the records behind relations (dotted paths, ``any``,
    one2many, ``child_of``); without it only the model's own columns can be compared.
    Sub-searches run now, once, like Odoo's sub-selects. Raises ``ValueError`` (Odoo's
    wording) for unknown fields, bad operators and malformed domains, before any row is
    looked at.
    """
    tokens = distribute_not(_anyfy(normalize_domain(domain), model, field_types))
    return _Compiler(model, field_types, related, version).compile(tokens)


Span = tuple[int | None, int | None]
"""``(lowest, highest)`` id, both included; None: unbounded."""
Bounds = tuple[tuple[Span, ...], frozenset[int] | None]
_EVERY_ID: tuple[Span, ...] = ((None, None),)
_UNBOUNDED: Bounds = (_EVERY_ID, None)


def id_bounds(domain: Sequence[Any]) -> Bounds:
    """Bounds on ``id`` implied by the domain (for a fast scan): its AND leaves narrow,
    its OR branches add spans (``id > a AND id <= b OR id > c`` scans ``a+1..b`` and
    ``c+1..``: the reconcile's listing of one range and the tail), a ``'!'`` gives none.

    Returns ``(spans, ids)``: every matching row's id lies in one of the ``spans``
    (ascending, disjoint) and, when ``ids`` is not None, in ``ids``. The domain must be
    valid.
    """
    tokens = normalize_domain(domain)
    if "!" in tokens:
        return _UNBOUNDED
    position = 0

    def node() -> Bounds:
        nonlocal position
        token = tokens[position]
        position += 1
        if token in ("&", "|"):
            left, right = node(), node()
            return _bounds_and(left, right) if token == "&" else _bounds_or(left, right)
        return _leaf_bounds(token)

    return node()


def _leaf_bounds(token: Any) -> Bounds:
    if token in (_TRUE_LEAF, _FALSE_LEAF):
        return _UNBOUNDED
    left, operator, right = token
    if left != "id" or isinstance(right, bool):
        return _UNBOUNDED
    if operator in (">", ">=") and isinstance(right, int):
        return ((right + 1 if operator == ">" else right, None),), None
    if operator in ("<", "<=") and isinstance(right, int):
        return ((None, right - 1 if operator == "<" else right),), None
    if operator == "=" and isinstance(right, int):
        return _EVERY_ID, frozenset([right])
    if operator == "in" and isinstance(right, (list, tuple)):
        return _EVERY_ID, frozenset(v for v in right if isinstance(v, int) and not isinstance(v, bool))
    return _UNBOUNDED


def _bounds_and(a: Bounds, b: Bounds) -> Bounds:
    spans = []
    for a_low, a_high in a[0]:
        for b_low, b_high in b[0]:
            low = a_low if b_low is None else b_low if a_low is None else max(a_low, b_low)
            high = a_high if b_high is None else b_high if a_high is None else min(a_high, b_high)
            if low is None or high is None or low <= high:
                spans.append((low, high))
    ids = a[1] if b[1] is None else b[1] if a[1] is None else a[1] & b[1]
    return _merged(spans), ids


def _bounds_or(a: Bounds, b: Bounds) -> Bounds:
    ids = None if a[1] is None or b[1] is None else a[1] | b[1]
    return _merged([*a[0], *b[0]]), ids


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    """Spans ascending, overlapping or adjacent ones joined."""
    result: list[Span] = []
    for low, high in sorted(spans, key=lambda span: -math.inf if span[0] is None else span[0]):
        if result and (result[-1][1] is None or low is None or low <= result[-1][1] + 1):
            last_low, last_high = result[-1]
            result[-1] = (last_low, None if last_high is None or high is None else max(last_high, high))
        else:
            result.append((low, high))
    return tuple(result)
