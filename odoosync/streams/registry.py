"""Which streams exist, in which order ``sync all`` runs them, and their configuration.

Built-in streams are listed in :func:`builtin_streams` (reference data first, then
partners, then leads, then what hangs off leads); ``_AFTER`` says which must finish
before another writes (it reads Odoo meanwhile), and the engine runs the others side by side. Pull settings in
``ops.odoo_sync_config`` (``odoo_to_sb:<model>`` → ``domain``, ``fields``,
``page_size``, ``schedule``) narrow or widen a built-in stream, or add a generic one for
any other model.

Configuration is validated when it is written (:func:`parse_pull_config`: every problem
at once, a :class:`~odoosync.exceptions.ConfigError`, nothing stored) and again at the
start of every sync, row by row (:func:`parse_pull_config_rows`, and
:func:`check_against_odoo` for field names Odoo does not know): a bad row then disables
only its own stream, named with the reason (:func:`select_streams` refuses it by name,
``sync all`` runs without it), and never stops unrelated streams.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from odoosync.exceptions import ConfigError, OdooPermanentError
from odoosync.streams.activities import DEFAULT_ACTIVITY_TYPE_MAP, ActivityTypeMap, activities_stream
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
    "parse_pull_config_rows",
    "check_against_odoo",
    "validate_domain",
    "stream_catalog",
    "select_streams",
]

ALL = "all"
CONFIG_PREFIX = "odoo_to_sb:"

_OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not in",
        "like",
        "not like",
        "ilike",
        "not ilike",
        "=like",
        "=ilike",
        "child_of",
        "parent_of",
        "any",
        "not any",
    }
)
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
"""Which streams' rows each stream's mapping looks up: they are written first."""


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


_MODEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$")  # crm.lead, x_studio_model


def parse_pull_config(values: Mapping[str, Any]) -> dict[str, PullConfig]:
    """``{config key: JSON value}`` → ``{model: PullConfig}``; every problem at once."""
    configs, problems = parse_pull_config_rows(values)
    if problems:
        flat = [p for row in problems.values() for p in row]
        raise ConfigError("; ".join(flat), flat)
    return configs


def parse_pull_config_rows(values: Mapping[str, Any]) -> tuple[dict[str, PullConfig], dict[str, list[str]]]:
    """The good rows as ``{model: PullConfig}`` and the bad ones as ``{config key: problems}``."""
    configs: dict[str, PullConfig] = {}
    bad: dict[str, list[str]] = {}
    for key, value in sorted(values.items()):
        if not key.startswith(CONFIG_PREFIX):
            continue
        config, problems = _parse_row(key, value)
        if problems:
            bad[key] = problems
        elif config is not None:
            configs[config.model] = config
    return configs, bad


def _parse_row(key: str, value: Any) -> tuple[PullConfig | None, list[str]]:
    """One row's settings and its problems (none: the row is good)."""
    model = key[len(CONFIG_PREFIX) :]
    where = f"sync config {key!r}"
    problems: list[str] = []
    if not _MODEL_NAME.match(model):
        return None, [f"{where}: {model!r} is not a model name (lower-case, dotted: crm.lead)"]
    if not isinstance(value, Mapping):
        return None, [f"{where}: the value must be a JSON object"]
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
    config = PullConfig(
        model=model,
        domain=tuple(_as_term(t) for t in domain) if isinstance(domain, list | tuple) else (),
        fields=tuple(f for f in fields if f not in ("id", "write_date")),
        page_size=page_size,
        schedule=schedule if isinstance(schedule, str) else None,
        activity_types=tuple(activity_types.items()),
    )
    return config, problems


def check_against_odoo(
    configs: Mapping[str, PullConfig], fields_of: Callable[[str], Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Field names in each configured domain and field list that Odoo does not know.

    ``fields_of(model)`` is Odoo's ``fields_get``; a model Odoo refuses (a permanent
    error) is a problem too. Anything else (Odoo unreachable) is raised: an outage must
    not disable streams. ``{config key: problems}`` for the rows that would fail.
    """
    bad: dict[str, list[str]] = {}
    for model, config in sorted(configs.items()):
        named = {str(t[0]).split(".", 1)[0] for t in config.domain if isinstance(t, tuple)} | set(config.fields)
        if not named:
            continue
        key, where = f"{CONFIG_PREFIX}{model}", f"sync config '{CONFIG_PREFIX}{model}'"
        try:
            known = fields_of(model)
        except OdooPermanentError as exc:
            bad[key] = [f"{where}: Odoo does not serve {model!r} ({type(exc).__name__})"]
            continue
        unknown = sorted(named - set(known) - {"id"})
        if unknown:
            bad[key] = [f"{where}: {model} has no field(s) {', '.join(unknown)}"]
    return bad


def _as_term(term: Any) -> Any:
    return tuple(term) if isinstance(term, list) else term


def activity_type_map(configs: Mapping[str, PullConfig]) -> ActivityTypeMap:
    """The one activity type ↔ kind map: the defaults with ``odoo_to_sb:mail.activity``'s
    ``activity_types`` on top. The pull maps types to kinds with it, the push kinds to types."""
    config = configs.get("mail.activity")
    if config is None or not config.activity_types:
        return DEFAULT_ACTIVITY_TYPE_MAP
    return DEFAULT_ACTIVITY_TYPE_MAP.extended(dict(config.activity_types))


def stream_catalog(configs: Mapping[str, PullConfig] | None = None, *, disabled: Sequence[str] = ()) -> list[Stream]:
    """Every stream, configured, in ``sync all`` order: built-ins, then generic ones;
    the built-in streams of the ``disabled`` models (a bad config row) are left out."""
    configs = dict(configs or {})
    streams = []
    for stream in builtin_streams():
        if stream.model in disabled:
            continue
        config = configs.pop(stream.model, None)
        if config is not None:
            if config.activity_types and stream.name == "activities":
                configured = activities_stream(activity_type_map(configs | {stream.model: config}))
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


def select_streams(
    name: str, catalog: Sequence[Stream], disabled: Mapping[str, Sequence[str]] | None = None
) -> list[Stream]:
    """``all`` → every stream in order; a stream or model name → that stream.

    ``disabled`` (``{config key: problems}``) names streams a bad config row switched off:
    asking for one of those by name is refused with the row's problems.
    """
    if name == ALL:
        return list(catalog)
    for key, problems in (disabled or {}).items():
        model = key[len(CONFIG_PREFIX) :]
        if name == model or any(s.name == name and s.model == model for s in builtin_streams()):
            raise ConfigError(f"stream {name!r} is disabled by a bad config row: {'; '.join(problems)}", list(problems))
    for stream in catalog:
        if name in (stream.name, stream.model):
            return [stream]
    known = ", ".join(s.name for s in catalog)
    raise ConfigError(
        f"unknown stream {name!r}: use one of all, {known}, or add a model with an "
        f"'{CONFIG_PREFIX}<model>' entry in ops.odoo_sync_config"
    )
