"""Reference data: stages, users, teams, tags, lost reasons and activity types.

Small models the lead and chatter mappings resolve names from. Each is mirrored into its
own ``odoo_*`` table: ``odoo_id``, ``name``, a few typed columns, ``write_date`` and the
whole record in ``raw``. Mappers are pure; the only lookup is the activity types' XML ids
(``ir.model.data``), which the chatter mapping uses to recognise types whatever their
translated name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import AccessDenied
from odoosync.store import schema
from odoosync.streams.base import PageContext, Stream, json_safe
from odoosync.streams.mirror import MirrorTarget

__all__ = [
    "mirror_row",
    "map_stages",
    "map_users",
    "map_teams",
    "map_tags",
    "map_lost_reasons",
    "map_activity_types",
    "ActivityTypesTarget",
    "reference_streams",
]


def mirror_row(record: Mapping[str, Any], **typed: Any) -> dict[str, Any]:
    """The columns every mirror table shares, plus ``typed`` ones."""
    return {
        "odoo_id": int(record["id"]),
        "name": record.get("name"),
        **typed,
        "write_date": record.get("write_date"),
        "raw": json_safe(dict(record)),
        "deleted_at": None,
    }


def _flag(record: Mapping[str, Any], name: str, default: bool) -> bool:
    value = record.get(name)
    return default if value is None else bool(value)


def _each(
    build: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> Callable[[Sequence[Mapping[str, Any]], Any], list[dict[str, Any]]]:
    def mapper(records: Sequence[Mapping[str, Any]], lookups: Any = None) -> list[dict[str, Any]]:
        return [build(r) for r in records]

    return mapper


map_stages = _each(
    lambda r: mirror_row(r, sequence=r.get("sequence"), is_won=_flag(r, "is_won", False), fold=_flag(r, "fold", False))
)
map_users = _each(lambda r: mirror_row(r, login=r.get("login"), email=r.get("email"), active=_flag(r, "active", True)))
map_teams = _each(lambda r: mirror_row(r, active=_flag(r, "active", True)))
map_tags = _each(lambda r: mirror_row(r, color=r.get("color")))
map_lost_reasons = _each(lambda r: mirror_row(r, active=_flag(r, "active", True)))


def map_activity_types(records: Sequence[Mapping[str, Any]], xml_ids: Mapping[int, str] | None) -> list[dict[str, Any]]:
    """Activity types with their XML id (``mail.mail_activity_data_call``) when known."""
    xml_ids = xml_ids or {}
    return [
        mirror_row(
            r,
            category=r.get("category"),
            keep_done=_flag(r, "keep_done", False),
            xml_id=xml_ids.get(int(r["id"])),
        )
        for r in records
    ]


class ActivityTypesTarget(MirrorTarget):
    """Activity types, resolving XML ids with one ``ir.model.data`` read per page."""

    def __init__(self) -> None:
        super().__init__(schema.odoo_activity_types, map_activity_types)

    def resolve(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> dict[int, str]:
        """XML ids, when the sync user may read ``ir.model.data`` (else names only)."""
        ids = [int(r["id"]) for r in records]
        try:
            data = ctx.client.search_read(
                "ir.model.data",
                [("model", "=", "mail.activity.type"), ("res_id", "in", ids)],
                ["module", "name", "res_id"],
                order="id",
            )
        except AccessDenied:
            return {}
        return {int(d["res_id"]): f"{d['module']}.{d['name']}" for d in data}


def reference_streams() -> list[Stream]:
    """The reference streams in the order ``sync all`` runs them."""
    return [
        Stream(
            "stages",
            "crm.stage",
            ("name", "sequence", "is_won", "fold"),
            MirrorTarget(schema.odoo_stages, map_stages),
            optional_fields=("team_id",),
        ),
        Stream(
            "users",
            "res.users",
            ("name", "login", "active"),
            MirrorTarget(schema.odoo_users, map_users),
            optional_fields=("email",),
        ),
        Stream(
            "teams",
            "crm.team",
            ("name", "active"),
            MirrorTarget(schema.odoo_teams, map_teams),
            optional_fields=("user_id",),
        ),
        Stream("tags", "crm.tag", ("name",), MirrorTarget(schema.odoo_tags, map_tags), optional_fields=("color",)),
        Stream(
            "lost_reasons",
            "crm.lost.reason",
            ("name", "active"),
            MirrorTarget(schema.odoo_lost_reasons, map_lost_reasons),
        ),
        Stream(
            "activity_types",
            "mail.activity.type",
            ("name", "active"),
            ActivityTypesTarget(),
            optional_fields=("category", "keep_done", "res_model", "summary"),
        ),
    ]
