"""The pull engine (Odoo → database); see ``pull/engine.py`` for how a run goes.

``plan.py`` cuts an id range into partitions, ``budget.py`` decides when to stop before
a deadline, ``engine.py`` runs streams (``odoosync.streams``) page by page.
"""

from __future__ import annotations

from odoosync.pull.engine import (
    DEFAULT_MAX_DELETE_SHARE,
    DEFAULT_PAGE_SIZE,
    Progress,
    PullEngine,
    PullOptions,
    StreamResult,
    checkpoint_key,
)

__all__ = ["DEFAULT_MAX_DELETE_SHARE", "DEFAULT_PAGE_SIZE", "Progress", "PullEngine", "PullOptions", "StreamResult", "checkpoint_key"]
