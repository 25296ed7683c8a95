"""When to try an Odoo call again: one pure decision, no sleeping, no I/O.

``decide(error, attempt, config)`` returns the delay in seconds before the next attempt,
or None to give up. Transient errors (429, 5xx, network) are retried with exponential
backoff and full jitter (a random delay between 0 and ``base * 2**(attempt-1)``, capped),
which spreads the retries of many workers instead of having them return in lockstep.
A 429's ``Retry-After`` is honoured exactly; when it asks for more than the cap, the
client gives up and the caller (an outbox, a scheduler) decides when to come back.
Permanent errors are never retried. A call that is not idempotent (a create, a
``message_post``) is retried only when Odoo surely did not apply it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from odoosync.exceptions import OdooTransientError, RateLimited
from odoosync.odoo.config import OdooConfig
from odoosync.odoo.errors import surely_not_executed

__all__ = ["decide"]


def decide(
    error: BaseException,
    attempt: int,
    config: OdooConfig,
    *,
    idempotent: bool = True,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to give up.

    ``attempt`` counts the attempts made so far (1 after the first failure).
    """
    if not isinstance(error, OdooTransientError):
        return None
    if attempt >= config.max_attempts:
        return None
    if not idempotent and not surely_not_executed(error):
        return None
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after if error.retry_after <= config.backoff_cap else None
    ceiling = min(config.backoff_cap, config.backoff_base * 2.0 ** (attempt - 1))
    return ceiling * rng()
