"""The pull engine (Odoo → database); see ``pull/engine.py`` for how a run goes.

``engine.py`` runs streams (``odoosync.streams``): ``run_many`` orders them and
``PullEngine.run`` takes a stream's lock; ``options.py`` is what a run is asked and
answers; ``run.py`` is one stream's run and its walks; ``pages.py`` writes each page with
its checkpoint (and the quarantine, ``rejects.py``); ``reconcile.py`` lists Odoo's ids and
deletes only on proof; ``plan.py`` cuts an id range into partitions; ``budget.py``
decides when to stop before a deadline.
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

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "DEFAULT_PAGE_SIZE",
    "Progress",
    "PullEngine",
    "PullOptions",
    "StreamResult",
    "checkpoint_key",
]
