"""No credential from a URL reaches the runs log, the API or an error, on both databases.

An ``ODOO_URL`` with ``user:password@`` (a reverse proxy's basic auth) that cannot be
reached fails a real run: its error is in ``ops.odoo_sync_runs`` and ``/api/runs``
without the password. A database password ``a`` (a letter in every message) leaves the
driver's message readable.
"""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from odoosync.exceptions import OdooSyncError, StoreError
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.service.events import EventBus
from odoosync.service.jobs import Jobs
from odoosync.store import Store
from odoosync.store.schema import odoo_sync_runs
from odoosync.web.app import WebContext
from odoosync.web.auth import Tokens
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, running_api

PASSWORD = "pr0xy-S3cret"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_odoo_url_credentials_stay_out_of_runs_api_and_errors(store: Store) -> None:
    config = OdooConfig(
        url=f"http://proxy:{PASSWORD}@127.0.0.1:{_closed_port()}",
        db="x",
        username="u",
        password="pw-odoo",
        protocol="jsonrpc",
        max_attempts=1,
        connect_timeout=2,
    )
    with OdooClient(config) as client:
        jobs = Jobs(store, client, events=EventBus())
        with pytest.raises(OdooSyncError):
            jobs.run_job("reference", "manual")
    with store.connect() as conn:
        errors = [row[0] for row in conn.execute(sa.select(odoo_sync_runs.c.error)).all()]
    assert errors and all(error for error in errors)
    assert any("proxy:***@127.0.0.1" in error for error in errors), errors
    context = WebContext(store=store, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), events=EventBus())
    with running_api(context) as api:
        answer = api.client(READ_TOKEN).get("/api/runs").text
    assert "proxy:***@" in answer
    for text in (*errors, answer):
        assert PASSWORD not in text and "pw-odoo" not in text


@pytest.mark.postgres
def test_a_one_letter_database_password_leaves_the_message_readable(pg_server: str) -> None:
    url = sa.make_url(pg_server).set(database="odoosync_no_such_db", password="a")
    with pytest.raises(StoreError) as caught:
        Store(url).open()
    message = str(caught.value)
    assert "***" not in message.split("database at", 1)[-1].split("postgres:***@", 1)[-1]
    assert '"odoosync_no_such_db" does not exist' in message
