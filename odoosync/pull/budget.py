"""A run's time budget: stop cleanly *before* the deadline, not when it has passed.

A caller that is killed at 60 seconds (the seed's edge functions) gives the run 50: the
run starts a new round of pages only while the slowest round so far would still fit,
commits what it has, and reports ``remaining: true`` so the caller re-triggers it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Budget"]


@dataclass
class Budget:
    """``seconds`` None: unlimited. ``clock`` is injectable for tests."""

    seconds: float | None = None
    clock: Callable[[], float] = time.monotonic
    safety: float = 1.5  # how many times the slowest step we keep in hand
    started: float = field(init=False)
    slowest: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def remaining_seconds(self) -> float | None:
        return None if self.seconds is None else self.seconds - self.elapsed

    def record(self, step_seconds: float) -> None:
        """Note how long a step (a round of pages) took."""
        self.slowest = max(self.slowest, step_seconds)

    def allows_another_step(self) -> bool:
        """True while one more step as slow as the slowest so far would still fit."""
        if self.seconds is None:
            return True
        return self.elapsed + self.slowest * self.safety < self.seconds
