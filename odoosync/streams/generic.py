"""Any other Odoo model, named in ``ops.odoo_sync_config``, stored generically.

``odoo_to_sb:<model>`` → ``{"domain": [...], "fields": [...], "page_size": N}`` makes
``<model>`` a stream whose records land in ``odoo_records`` as ``(backend, model,
odoo_id)``, ``write_date`` and the whole record in ``raw``. Without ``fields`` every
stored, non-binary field the server reports is read (one ``fields_get`` per run, which
the client needs anyway to normalise values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from odoosync.store.schema import odoo_records
from odoosync.streams.base import PageContext, Stream, json_safe
from odoosync.streams.mirror import MirrorTarget

__all__ = ["map_generic", "generic_stream", "DEFAULT_FIELDS"]

DEFAULT_FIELDS: tuple[str, ...] = ()
"""Empty: read every stored, non-binary field (see :meth:`Stream.read_fields`)."""


def map_generic(records: Sequence[Mapping[str, Any]], lookups: Any = None) -> list[dict[str, Any]]:
    """Records → ``odoo_records`` rows (pure; backend and model come from the target)."""
    return [
        {"odoo_id": int(r["id"]), "write_date": r.get("write_date"), "raw": json_safe(dict(r)), "deleted_at": None}
        for r in records
    ]


def generic_stream(
    model: str,
    fields: Sequence[str] = DEFAULT_FIELDS,
    domain: Sequence[Any] = (),
    page_size: int | None = None,
) -> Stream:
    """A stream for ``model`` into ``odoo_records``."""

    def scope(ctx: PageContext) -> dict[str, Any]:
        return {"model": model}

    target = MirrorTarget(odoo_records, map_generic, key=("backend", "model", "odoo_id"), scope=scope)
    return Stream(
        name=model,
        model=model,
        fields=tuple(fields),
        target=target,
        domain=tuple(domain),
        page_size=page_size,
        all_fields=not fields,
    )
