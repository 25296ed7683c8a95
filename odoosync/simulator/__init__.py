"""An Odoo that runs here: the tests' and benchmarks' Odoo (see docs/simulator.md).

``Simulator`` serves generated CRM data over Odoo's JSON-RPC, XML-RPC and JSON-2
protocols on loopback, evaluates domains like Odoo 17, stamps ``write_date`` per call,
and injects latency and faults on demand.
"""

from __future__ import annotations

from odoosync.simulator.clock import Clock
from odoosync.simulator.faults import Faults, RequestLog, RequestRecord
from odoosync.simulator.generator import Counts, expected_counts
from odoosync.simulator.simulator import DEFAULT_DB, DEFAULT_LOGIN, DEFAULT_PASSWORD, Simulator

__all__ = [
    "Simulator",
    "Clock",
    "Faults",
    "RequestLog",
    "RequestRecord",
    "Counts",
    "expected_counts",
    "DEFAULT_DB",
    "DEFAULT_LOGIN",
    "DEFAULT_PASSWORD",
]
