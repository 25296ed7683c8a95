"""The pull side's ports: the Odoo client and the Store answer every method of the
protocols the engine is typed against, with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.odoo.reader import CountedReader, MeteredReader, OdooReader
from odoosync.store.database import Store
from odoosync.store.port import PullStore

# Set in __init__ (checked on an instance below).
_INSTANCE_ATTRIBUTES = {OdooClient: ("stats",)}


def test_the_client_counts_its_traffic_where_a_counted_run_reads_it() -> None:
    client = OdooClient(OdooConfig(url="http://127.0.0.1:1", db="x", username="u"))
    assert client.stats.snapshot().requests == 0
    assert client.max_concurrency == client.config.max_concurrency


def _members(protocol: type) -> list[str]:
    return sorted(n for n in vars(protocol) if not n.startswith("_") and n not in {"mro"})


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [(OdooReader, OdooClient), (MeteredReader, OdooClient), (OdooReader, CountedReader), (PullStore, Store)],
)
def test_the_implementation_serves_every_member_of_the_port(protocol: type, implementation: type) -> None:
    members = _members(protocol)
    assert members, f"{protocol.__name__} declares what it needs"
    for name in members:
        assert hasattr(implementation, name) or name in _INSTANCE_ATTRIBUTES.get(implementation, ()), (
            f"{implementation.__name__} lacks {name}"
        )
        if not hasattr(implementation, name):
            continue
        wanted = getattr(protocol, name)
        if callable(wanted) and not isinstance(wanted, property):
            declared = [p for p in inspect.signature(wanted).parameters if p != "self"]
            have = inspect.signature(getattr(implementation, name)).parameters
            accepts_any = any(p.kind is p.VAR_KEYWORD for p in have.values())
            missing = [p for p in declared if p not in have and not accepts_any]
            assert missing == [], f"{implementation.__name__}.{name} lacks parameters {missing}"
