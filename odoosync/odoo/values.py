"""Odoo's wire values turned into Python values at the edge, and back.

Odoo answers ``False`` for every empty field whatever its type, many2one fields as
``[id, "display name"]``, and datetimes as naive UTC strings ``YYYY-MM-DD HH:MM:SS``.
Code above the client should never have to know that, so records are normalised once
here, using each field's type (from ``fields_get``):

* ``False`` → ``None`` unless the field is a boolean;
* many2one ``[id, name]`` → ``(id, name)``;
* datetime strings → timezone-aware UTC ``datetime``; date strings → ``date``.

``to_odoo`` does the reverse for values sent to ``create``/``write``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "normalize_record",
    "normalize_records",
    "normalize_value",
    "to_odoo",
    "to_wire",
    "odoo_datetime",
    "parse_datetime",
    "parse_date",
]

FieldTypes = Mapping[str, str]

_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATE_FORMAT = "%Y-%m-%d"


def odoo_datetime(value: datetime) -> str:
    """A datetime as Odoo writes and compares it: UTC, ``YYYY-MM-DD HH:MM:SS`` (naive
    values are taken as UTC already). The one formatter: domains, ``write``, JSON, text."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(_DATETIME_FORMAT)


def parse_datetime(text: str) -> datetime:
    """Odoo's UTC ``YYYY-MM-DD HH:MM:SS`` (fractions and ISO 8601 offsets tolerated) → aware UTC datetime."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(text: str) -> date:
    return date.fromisoformat(text[:10])


def normalize_value(value: Any, field_type: str | None) -> Any:
    """One value of a field of type ``field_type`` (None: unknown type, left as is)."""
    if field_type is None:
        return value
    if value is False and field_type != "boolean":
        return None
    if field_type == "many2one" and isinstance(value, list | tuple) and len(value) == 2:
        return (value[0], value[1])
    if field_type == "datetime" and isinstance(value, str):
        return parse_datetime(value)
    if field_type == "date" and isinstance(value, str):
        return parse_date(value)
    return value


def normalize_record(record: dict[str, Any], field_types: FieldTypes) -> dict[str, Any]:
    """A record as Odoo sent it, fresh from the wire → the same dict, its values made
    Python's in place (:func:`normalize_value` field by field)."""
    return normalize_records([record], field_types)[0]


def normalize_records(records: list[dict[str, Any]], field_types: FieldTypes) -> list[dict[str, Any]]:
    """A page as Odoo sent it → the same records, normalised in place (no second dict per
    record: the import's pages are read by the tens of thousands).

    Equal many2one pairs and equal date strings of one page become one shared (immutable)
    value: a page of leads names the same few companies, users, stages and teams, and
    bulk-written rows share their ``write_date``, so this is a third of a lead's memory
    and most of its parsing.
    """
    pairs: dict[tuple[Any, Any], tuple[Any, Any]] = {}
    dates: dict[tuple[str, str], date] = {}
    for record in records:
        for name, value in record.items():
            if value is False:
                if field_types.get(name, "boolean") != "boolean":
                    record[name] = None
            elif type(value) is str:
                field_type = field_types.get(name)
                if field_type == "datetime" or field_type == "date":
                    key = (field_type, value)
                    parsed = dates.get(key)
                    if parsed is None:
                        parsed = dates[key] = parse_datetime(value) if field_type == "datetime" else parse_date(value)
                    record[name] = parsed
            elif type(value) is list and len(value) == 2 and field_types.get(name) == "many2one":
                pair = (value[0], value[1])
                record[name] = pairs.setdefault(pair, pair)
    return records


def to_odoo(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values for ``create``/``write``: None → False, ``(id, name)`` → id, dates → strings.

    Aware datetimes are converted to UTC first; naive ones are taken as UTC already.
    """
    return {name: _to_odoo_value(value) for name, value in values.items()}


def _to_odoo_value(value: Any) -> Any:
    if value is None:
        return False
    if isinstance(value, datetime):
        return odoo_datetime(value)
    if isinstance(value, date):
        return value.strftime(_DATE_FORMAT)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
        return value[0]
    return value


def to_wire(value: Any) -> Any:
    """Call arguments (domains, kwargs) with dates as Odoo's strings and tuples as lists.

    Every protocol then carries the same values: JSON has no dates, and XML-RPC's own
    ``dateTime`` type is not what Odoo compares a datetime field with.
    """
    if isinstance(value, datetime | date):
        return _to_odoo_value(value)
    if isinstance(value, Mapping):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_wire(item) for item in value]
    return value
