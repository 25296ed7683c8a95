"""The dashboard's Workers panel, in a real headless Chromium, on PostgreSQL: hidden under
the in-process engine, then the live workers and the queue's tasks by backend once the
distributed engine's queue exists (a worker registered and a task queued through
procrastinate's own API)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from odoosync.service.events import EventBus
from odoosync.service.task_queue import TASK_NAME, ensure_queue_schema, make_queue_app
from odoosync.store import Store
from odoosync.web.app import WebContext
from odoosync.web.auth import Tokens
from tests.browser.test_dashboard import open_dashboard
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, running_api

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_the_workers_panel_shows_live_workers_and_queued_tasks_by_backend(pg_url: str, page, shoot) -> None:
    with (
        Store(pg_url) as store,
        running_api(
            WebContext(store=store, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), events=EventBus())
        ) as server,
    ):
        open_dashboard(page, server)
        expect(page.locator("#runs tbody")).to_be_attached()
        expect(page.locator("#workers-section")).to_be_hidden()  # in-process: nothing to show

        ensure_queue_schema(store)
        queue = make_queue_app(pg_url, pool_size=1)

        async def register_worker() -> int:
            async with queue.open_async():
                return await queue.job_manager.register_worker()

        with ThreadPoolExecutor(1) as other_thread:  # Playwright's loop runs on this one
            worker_id = other_thread.submit(lambda: asyncio.run(register_worker())).result()
        with queue.open():
            task = queue.tasks[TASK_NAME]
            for backend in ("acme", "globex"):
                task.configure(lock=f"{backend}:pull").defer(backend=backend, jobs=["increments"], trigger="api")

        page.reload()
        expect(page.locator("#workers-section")).to_be_visible()
        expect(page.locator("#workers-count")).to_have_text("1 live")
        expect(page.locator("#workers tbody tr")).to_have_count(1)
        expect(page.locator("#workers tbody tr td").first).to_have_text(str(worker_id))
        queued = page.locator("#queue tbody tr")
        expect(queued).to_have_count(2)
        expect(page.locator('#queue tbody tr[data-backend="globex"]')).to_contain_text("todo")
        shoot(page, "workers")
