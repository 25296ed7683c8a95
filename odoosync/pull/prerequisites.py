"""A stream that others come ``after`` (leads after partners, chatter after leads), as
those others see it: they start reading Odoo while it still writes, and wait for it
only before their first write (``StreamRun._ready``). Odoo's answers for the first round
are then in hand when the wait ends, instead of being asked for only then.
"""

from __future__ import annotations

import threading

from odoosync.exceptions import OdooSyncError

__all__ = ["Prerequisite", "PrerequisiteFailed"]

_STOP_POLL_SECONDS = 0.05


class PrerequisiteFailed(OdooSyncError):
    """A stream this one comes after failed: this one writes nothing (its records would
    miss their parents)."""


class Prerequisite:
    """One stream's completion as the streams that come after it wait for it."""

    def __init__(self, stream: str):
        self.stream = stream
        self._finished = threading.Event()
        self._failed = False

    def finish(self, *, failed: bool) -> None:
        self._failed = failed
        self._finished.set()

    def wait(self, stopping: threading.Event) -> bool:
        """Block until the stream is done; False when ``stopping`` is set first. Raises
        :class:`PrerequisiteFailed` when it failed."""
        while not self._finished.wait(_STOP_POLL_SECONDS):
            if stopping.is_set():
                return False
        if self._failed:
            raise PrerequisiteFailed(f"not run: stream {self.stream!r}, which this one comes after, did not complete")
        return True
