"""Field values at the simulator's edge: what RPC sends in, what ``fields_get`` says.

Pure helpers shared by the ORM methods: record ids as RPC passes them, x2many commands,
date and datetime parsing in Odoo's formats, the ``fields_get`` description of a field,
and the text cells of ``load``. Each raises ``InvalidValue`` naming the bad value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from odoosync.simulator.clock import format_datetime
from odoosync.simulator.errors import InvalidValue
from odoosync.simulator.schema import Field

__all__ = [
    "ids_of",
    "check_commands",
    "apply_commands",
    "parse_date",
    "parse_datetime",
    "describe_field",
    "load_cell",
]


def ids_of(ids: Sequence[int] | int) -> list[int]:
    """Record ids as RPC passes them (one id or a list), deduplicated, order kept."""
    if isinstance(ids, bool):
        raise InvalidValue(f"Invalid ids {ids!r}")
    if isinstance(ids, int):
        return [ids]
    if not isinstance(ids, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidValue(f"Expected a list of record ids, got {ids!r}")
    return list(dict.fromkeys(ids))


def check_commands(model: str, name: str, value: Any) -> None:
    """An x2many value must be a list of commands or ids."""
    if not isinstance(value, (list, tuple)):
        raise InvalidValue(f"Wrong value for {model}.{name}: {value!r}")


def apply_commands(current: Sequence[int], commands: Any) -> list[int]:
    """Apply Odoo's x2many commands (6, 4, 3, 5; or a plain id list) to an id list."""
    if not isinstance(commands, (list, tuple)):
        raise InvalidValue(f"Wrong x2many value: {commands!r}")
    ids = list(current)
    if all(isinstance(c, int) and not isinstance(c, bool) for c in commands):
        return list(dict.fromkeys(commands))
    for command in commands:
        if not isinstance(command, (list, tuple)) or not command:
            raise InvalidValue(f"Wrong x2many command: {command!r}")
        code = command[0]
        if code == 6:
            ids = list(dict.fromkeys(command[2] or []))
        elif code == 4:
            if command[1] not in ids:
                ids.append(command[1])
        elif code in (3, 2):
            ids = [i for i in ids if i != command[1]]
        elif code == 5:
            ids = []
        else:
            raise InvalidValue(f"The simulator does not support x2many command {command!r}")
    return ids


def parse_date(value: Any, label: str) -> str:
    """A date as Odoo stores it (``YYYY-MM-DD``); a datetime string is cut to its date."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise InvalidValue(f"time data {value!r} does not match format '%Y-%m-%d' ({label})") from None


def parse_datetime(value: Any, label: str) -> str:
    """A datetime as Odoo stores it (``YYYY-MM-DD HH:MM:SS``, UTC); a date means midnight."""
    if isinstance(value, datetime):
        return format_datetime(value)
    text = str(value)
    try:
        if len(text) == 10:
            return format_datetime(datetime.strptime(text, "%Y-%m-%d"))
        return format_datetime(datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        raise InvalidValue(f"time data {value!r} does not match format '%Y-%m-%d %H:%M:%S' ({label})") from None


def describe_field(field: Field) -> dict[str, Any]:
    """What ``fields_get`` reports for one field (Odoo 17 attribute names)."""
    description: dict[str, Any] = {
        "type": field.type,
        "string": field.string,
        "required": field.required,
        "readonly": field.readonly,
        "store": field.store,
        "searchable": field.store,
        "sortable": field.store and field.type not in ("one2many", "many2many"),
        "manual": False,
        "depends": list(field.depends),
        "company_dependent": False,
        "groupable": field.store,
        "exportable": True,
        "change_default": False,
        "name": field.name,
        "help": field.help or "",
    }
    if field.relation:
        description["relation"] = field.relation
        description["context"] = {}
        description["domain"] = [list(leaf) for leaf in field.domain]
    if field.inverse:
        description["relation_field"] = field.inverse
    if field.selection:
        description["selection"] = [list(pair) for pair in field.selection]
    if field.tracking:
        description["tracking"] = True
    if field.type in ("char", "text", "html"):
        description["translate"] = False
        if field.type == "char":
            description["trim"] = True
    if field.type == "html":
        description["sanitize"] = True
    if field.type == "monetary":
        description["currency_field"] = "company_currency"
    if field.type == "many2one_reference":
        description["model_field"] = field.model_field
    return description


def load_cell(field: Field, cell: Any) -> Any:
    """One ``load`` cell (text) as a value ``create``/``write`` accepts."""
    if cell is None or cell == "" or cell is False:
        return [(6, 0, [])] if field.type == "many2many" else False
    text = str(cell)
    if field.type == "many2many":
        return [(6, 0, [int(part) for part in text.split(",") if part.strip()])]
    if field.type in ("many2one", "integer", "many2one_reference"):
        return int(text)
    if field.type in ("float", "monetary"):
        return float(text)
    if field.type == "boolean":
        return text.strip().lower() in ("1", "true", "yes")
    return text
