"""Fault injection and the request log: how the simulator misbehaves on purpose.

A real Odoo (or the proxy in front of it, e.g. Odoo.sh's) sometimes answers 429 with
``Retry-After``, 5xx, takes longer than the client waits, or drops the connection.
``Faults`` decides, per request, whether to do one of those, either by rate (seeded
random, so a run is reproducible) or by script (the n-th call of a method, or the n-th
request). ``Faults.parse`` reads the CLI's spec string::

    429:0.1,500:0.05,reset:0.05,timeout:0.02     rates (probability per data request)
    search_read#3:500                            the 3rd search_read answers HTTP 500
    crm.lead.write#1:reset                       the 1st write on crm.lead drops the connection
    #7:429                                       the 7th request (any kind) answers 429

Kinds: ``429``, ``500``, ``502``, ``503``, ``timeout`` (sleep ``timeout_s`` then drop),
``reset`` (close the socket without answering). Rates apply to data calls
(``object`` service and JSON-2) unless ``scope="all"``; scripts match any request.

``RequestLog`` records every request (time, protocol, service, model, method, status,
fault; the last 100,000 are kept, so a long-running CLI server stays small) and keeps
counters; tests read it, only the server writes it.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Fault", "Faults", "RequestInfo", "RequestRecord", "RequestLog", "FAULT_KINDS"]

FAULT_KINDS = ("429", "500", "502", "503", "timeout", "reset")


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour: an HTTP status, a timeout or a dropped connection."""

    kind: str
    retry_after: float | None = None

    @property
    def status(self) -> int | None:
        return int(self.kind) if self.kind.isdigit() else None


@dataclass(frozen=True)
class RequestInfo:
    """What a request asks for, as far as faults and the log care."""

    protocol: str  # "jsonrpc", "xmlrpc", "json2", "http"
    service: str | None  # "common", "object", "db" (JSON-2: "object")
    method: str | None  # "login", "execute_kw" → the ORM method when there is one
    model: str | None = None
    path: str = ""

    @property
    def is_data_call(self) -> bool:
        return self.service == "object"


@dataclass(frozen=True)
class _Script:
    model: str | None
    method: str | None
    nth: int
    kind: str


@dataclass
class Faults:
    """Which requests misbehave. Empty by default; see the module docstring for the spec."""

    rates: dict[str, float] = field(default_factory=dict)
    scripts: list[_Script] = field(default_factory=list)
    seed: int = 0
    retry_after: float = 1.0
    timeout_s: float = 30.0
    scope: str = "data"

    def __post_init__(self) -> None:
        for kind, rate in self.rates.items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
            if not 0 <= rate <= 1:
                raise ValueError(f"fault rate for {kind} must be between 0 and 1, got {rate}")
        if sum(self.rates.values()) > 1:
            raise ValueError("fault rates add up to more than 1")
        if self.scope not in ("data", "all"):
            raise ValueError(f"fault scope must be 'data' or 'all', got {self.scope!r}")
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str | None, str | None]] = Counter()
        self._requests = 0

    @classmethod
    def parse(cls, spec: str | None, *, seed: int = 0, **options: float | str) -> Faults:
        """Build from ``'429:0.1,search_read#3:500'``; raises ValueError naming the bad part."""
        rates: dict[str, float] = {}
        scripts: list[_Script] = []
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            target, sep, value = part.rpartition(":")
            if not sep or not target:
                raise ValueError(f"fault spec part {part!r} is not KIND:RATE or METHOD#N:KIND")
            if "#" in target:
                what, _, nth_text = target.rpartition("#")
                if value not in FAULT_KINDS:
                    raise ValueError(f"fault spec part {part!r}: unknown kind {value!r} ({', '.join(FAULT_KINDS)})")
                try:
                    nth = int(nth_text)
                except ValueError:
                    raise ValueError(f"fault spec part {part!r}: {nth_text!r} is not a call number") from None
                if nth < 1:
                    raise ValueError(f"fault spec part {part!r}: call numbers start at 1")
                model, _, method = what.rpartition(".") if what else ("", "", "")
                scripts.append(_Script(model or None, method or None, nth, value))
            else:
                if target not in FAULT_KINDS:
                    raise ValueError(f"fault spec part {part!r}: unknown kind {target!r} ({', '.join(FAULT_KINDS)})")
                try:
                    rates[target] = float(value)
                except ValueError:
                    raise ValueError(f"fault spec part {part!r}: {value!r} is not a rate") from None
        return cls(rates=rates, scripts=scripts, seed=seed, **options)  # type: ignore[arg-type]

    def decide(self, request: RequestInfo) -> Fault | None:
        """The fault for this request, or None to answer normally (thread-safe)."""
        with self._lock:
            self._requests += 1
            self._calls[(request.model, request.method)] += 1
            if request.model is not None:
                self._calls[(None, request.method)] += 1
            for script in self.scripts:
                if script.method is None and script.model is None:
                    hit = self._requests == script.nth
                else:
                    hit = (
                        script.method == request.method
                        and script.model in (None, request.model)
                        and self._calls[(script.model, script.method)] == script.nth
                    )
                if hit:
                    return self._fault(script.kind)
            if not self.rates or (self.scope == "data" and not request.is_data_call):
                return None
            roll = self._random.random()
            for kind, rate in self.rates.items():
                if roll < rate:
                    return self._fault(kind)
                roll -= rate
            return None

    def _fault(self, kind: str) -> Fault:
        return Fault(kind, retry_after=self.retry_after if kind == "429" else None)


@dataclass(frozen=True)
class RequestRecord:
    """One line of the request log."""

    at: datetime
    protocol: str
    service: str | None
    model: str | None
    method: str | None
    status: int | None  # HTTP status sent; None when the connection was dropped
    fault: str | None
    error: str | None  # Odoo exception name when the call failed inside Odoo


class RequestLog:
    """The requests the simulator saw, in order (the last ``keep`` of them), plus counters
    over all of them; safe across threads."""

    def __init__(self, keep: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=keep)
        self._counters: Counter[str] = Counter()

    def add(self, info: RequestInfo, status: int | None, fault: str | None = None, error: str | None = None) -> None:
        record = RequestRecord(
            at=datetime.now(UTC),
            protocol=info.protocol,
            service=info.service,
            model=info.model,
            method=info.method,
            status=status,
            fault=fault,
            error=error,
        )
        with self._lock:
            self._records.append(record)
            self._counters.update(_counter_keys(record))

    @property
    def records(self) -> tuple[RequestRecord, ...]:
        with self._lock:
            return tuple(self._records)

    def count(self, method: str | None = None, model: str | None = None) -> int:
        """How many kept requests called ``method`` (on ``model``), or all kept requests."""
        return sum(
            1 for r in self.records if (method is None or r.method == method) and (model is None or r.model == model)
        )

    def counters(self) -> dict[str, int]:
        """Requests by method, status, fault kind and Odoo error since the start or the last
        ``clear()`` (``requests``, ``method:search_read``, ``status:429``, ``fault:reset``...)."""
        with self._lock:
            return dict(self._counters)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._counters.clear()


def _counter_keys(record: RequestRecord) -> list[str]:
    keys = ["requests", f"method:{record.method}", f"status:{record.status}"]
    if record.fault:
        keys.append(f"fault:{record.fault}")
    if record.error:
        keys.append(f"error:{record.error}")
    return keys
