"""Which streams exist, in which order ``sync all`` runs them, and their configuration.

Built-in streams are listed in :func:`builtin_streams` (reference data first, then
partners, then leads, then what hangs off leads); ``_AFTER`` says which must finish
before another starts, and the engine runs the others side by side. Pull settings in
``ops.odoo_sync_config`` (``odoo_to_sb:<model>`` → ``domain``, ``fields``,
``page_size``, ``schedule``) narrow or widen a built-in stream, or add a generic one for
any other model. The configuration is validated up front and every problem is reported
at once (a :class:`~odoosync.exceptions.ConfigError`), before anything is read or
written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from odoosync.exceptions import ConfigError
from odoosync.streams.activities import DEFAULT_ACTIVITY_TYPE_MAP, activities_stream
from odoosync.streams.base import Stream
from odoosync.streams.chatter import chatter_stream
from odoosync.streams.generic import generic_stream
from odoosync.streams.leads import leads_stream
from odoosync.streams.partners import partners_stream
from odoosync.streams.reference import reference_streams

__all__ = [
    "ALL",
    "CONFIG_PREFIX",
    "PullConfig",
    "builtin_streams",
    "parse_pull_config",
    "validate_domain",
    "stream_catalog",
    "select_streams",
]

ALL = "all"
CONFIG_PREFIX = "odoo_to_sb:"

_OPERATORS = frozenset({
    "=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in", "like", "not like", "ilike",
    "not ilike", "=like", "=ilike", "child_of", "parent_of", "any", "not any",
})
_LOGIC = {"&": 2, "|": 2, "!": 1}


@dataclass(frozen=True)
class PullConfig:
    """The pull settings of one model (``odoo_to_sb:<model>``)."""

    model: str
    domain: tuple[Any, ...] = ()
    fields: tuple[str, ...] = ()
    page_size: int | None = None
    schedule: str | None = None
    activity_types: tuple[tuple[str, str], ...] = ()  # mail.activity: type name / XML id → kind


_AFTER: dict[str, tuple[str, ...]] = {
    "leads": ("stages", "tags", "partners"),
    "chatter": ("leads",),
    "activities": ("leads", "activity_types"),
}
"""Which streams' rows each stream's mapping looks up: they run first."""


def builtin_streams() -> list[Stream]:
    """Every built-in stream, in ``sync all`` order (each after what it looks up)."""
    streams = [*reference_streams(), partners_stream(), leads_stream(), chatter_stream(), activities_stream()]
    return [dataclasses.replace(s, after=_AFTER.get(s.name, s.after)) for s in streams]


def validate_domain(domain: Any) -> list[str]:
    """Problems with an Odoo domain's shape (prefix notation, ``(field, op, value)`` terms)."""
    if not isinstance(domain, list | tuple):
        return [f"the domain must be a list, got {type(domain).__name__}"]
    problems: list[str] = []
    needed = 1  # operands still expected; implicit '&' between top-level terms
    for position, item in enumerate(domain):
        if needed == 0:
            needed = 1  # implicit AND with the next term
        if isinstance(item, str):
            if item not in _LOGIC:
                problems.append(f"term {position}: {item!r} is not '&', '|' or '!'")
                continue
            needed += _LOGIC[item] - 1
            continue
        if not isinstance(item, list | tuple) or len(item) != 3:
            problems.append(f"term {position}: {item!r} is not a (field, operator, value) triple")
            needed -= 1
            continue
        name, operator, _ = item
        if not isinstance(name, str) or not name:
            problems.append(f"term {position}: the field name {name!r} is not a string")
        if not isinstance(operator, str) or operator.lower() not in _OPERATORS:
            problems.append(f"term {position}: unknown operator {operator!r}")
        needed -= 1
    if domain and needed > 0 and not problems:
        problems.append("a '&', '|' or '!' lacks its operands")
    return problems


def parse_pull_config(values: Mapping[str, Any]) -> dict[str, PullConfig]:
    """``{config key: JSON value}`` → ``{model: PullConfig}``; every problem at once."""
    problems: list[str] = []
    configs: dict[str, PullConfig] = {}
    for key, value in sorted(values.items()):
        if not key.startswith(CONFIG_PREFIX):
            continue
        model = key[len(CONFIG_PREFIX):]
        where = f"sync config {key!r}"
        if not model or " " in model:
            problems.append(f"{where}: {model!r} is not a model name")
            continue
        if not isinstance(value, Mapping):
            problems.append(f"{where}: the value must be a JSON object")
            continue
        domain = value.get("domain", [])
        problems += [f"{where}: malformed domain: {p}" for p in validate_domain(domain)]
        fields = value.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
            problems.append(f"{where}: fields must be a list of field names")
            fields = []
        page_size = value.get("page_size")
        if page_size is not None and (not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1):
            problems.append(f"{where}: page_size must be a positive integer (got {page_size!r})")
            page_size = None
        schedule = value.get("schedule")
        activity_types = value.get("activity_types", {})
        if not isinstance(activity_types, Mapping) or not all(isinstance(v, str) for v in activity_types.values()):
            problems.append(f"{where}: activity_types must map activity type names or XML ids to a kind")
            activity_types = {}
        try:
            DEFAULT_ACTIVITY_TYPE_MAP.extended(activity_types)
        except ConfigError as exc:
            problems += [f"{where}: {problem}" for problem in exc.problems]
        configs[model] = PullConfig(
            model=model,
            domain=tuple(_as_term(t) for t in domain) if isinstance(domain, list | tuple) else (),
            fields=tuple(f for f in fields if f not in ("id", "write_date")),
            page_size=page_size,
            schedule=schedule if isinstance(schedule, str) else None,
            activity_types=tuple(activity_types.items()),
        )
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return configs


def _as_term(term: Any) -> Any:
    return tuple(term) if isinstance(term, list) else term


def stream_catalog(configs: Mapping[str, PullConfig] | None = None) -> list[Stream]:
    """Every stream, configured, in ``sync all`` order: built-ins, then generic ones."""
    configs = dict(configs or {})
    streams = []
    for stream in builtin_streams():
        config = configs.pop(stream.model, None)
        if config is not None:
            if config.activity_types and stream.name == "activities":
                configured = activities_stream(DEFAULT_ACTIVITY_TYPE_MAP.extended(dict(config.activity_types)))
                stream = dataclasses.replace(stream, target=configured.target)
            stream = dataclasses.replace(
                stream,
                domain=(*stream.domain, *config.domain),
                fields=tuple(dict.fromkeys((*stream.fields, *config.fields))),
                page_size=config.page_size or stream.page_size,
            )
        streams.append(stream)
    for model, config in sorted(configs.items()):
        streams.append(generic_stream(model, config.fields, config.domain, config.page_size))
    return streams


def select_streams(name: str, catalog: Sequence[Stream]) -> list[Stream]:
    """``all`` → every stream in order; a stream or model name → that stream."""
    if name == ALL:
        return list(catalog)
    for stream in catalog:
        if name in (stream.name, stream.model):
            return [stream]
    known = ", ".join(s.name for s in catalog)
    raise ConfigError(
        f"unknown stream {name!r}: use one of all, {known}, or add a model with an "
        f"'{CONFIG_PREFIX}<model>' entry in ops.odoo_sync_config"
    )
