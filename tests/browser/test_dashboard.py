"""The dashboard in a real headless Chromium, against the real service over HTTP.

The service runs the real jobs against the Odoo simulator on a SQLite file; the page is
driven like an operator would: token prompt, badge, Sync now, Retry, Reset, webhooks.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from odoosync.odoo.client import OdooClient
from odoosync.service.events import EventBus
from odoosync.service.jobs import Jobs
from odoosync.store.schema import odoo_outbox, odoo_sync_runs
from odoosync.web.app import WebContext
from odoosync.web.auth import Tokens
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, ApiServer, running_api, simulator_config

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

WEBHOOK_SECRET = "whk-3b9d0c77e1a2"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def dashboard(store, make_simulator) -> Iterator[ApiServer]:
    """The service (jobs, API, dashboard, webhooks) over a scale-0.05 simulator, small pages
    so that a sync takes several pages and its progress is visible."""
    sim = make_simulator(scale=0.05, seed=3)
    events = EventBus()
    with OdooClient(simulator_config(sim)) as client:
        jobs = Jobs(store, client, events=events, page_size=10)
        context = WebContext(
            store=store,
            tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN),
            events=events,
            jobs=jobs,
            client_stats=client.stats.snapshot,
            webhook_secret=WEBHOOK_SECRET,
        )
        with running_api(context) as server:
            server.simulator = sim
            try:
                yield server
            finally:
                jobs.stop()  # also stops the webhook queue (it shares jobs.stopping)
                jobs.join(10)


def sync_everything(server: ApiServer) -> None:
    jobs = server.context.jobs
    jobs.run_job("reference", "manual")
    jobs.run_job("increments", "manual")


def open_dashboard(page, server: ApiServer, token: str | None = ADMIN_TOKEN) -> None:
    """Load the page; it asks for the token, which is typed in."""
    page.goto(server.url + "/")
    if token is not None:
        expect(page.locator("#token-form")).to_be_visible()
        page.fill("#token-input", token)
        page.click("#token-form button[type=submit]")
    expect(page.locator("#main")).to_be_visible()
    expect(page.locator("#freshness-badge")).not_to_have_class("badge unknown")


def test_token_prompt_badge_green_after_sync_and_red_when_stale(dashboard, page, shoot, store) -> None:
    sync_everything(dashboard)
    page.goto(dashboard.url + "/")
    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#main")).to_be_hidden()
    shoot(page, "token-prompt")

    page.fill("#token-input", "not-the-token")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#token-error")).to_have_text("That token was refused.")

    page.fill("#token-input", READ_TOKEN)
    page.click("#token-form button[type=submit]")
    badge = page.locator("#freshness-badge")
    expect(badge).to_have_class("badge green")
    expect(badge).to_have_text("Last synced just now")
    expect(page.locator("#streams tbody tr")).to_have_count(len(dashboard.context.jobs.stream_names()))
    shoot(page, "green")
    assert page.evaluate("sessionStorage.getItem('odoosync.token')") == READ_TOKEN
    assert page.evaluate("localStorage.length") == 0

    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with store.transaction() as conn:
        changed = conn.execute(
            sa.update(odoo_sync_runs)
            .where(odoo_sync_runs.c.stream == "leads")
            .values(started_at=two_hours_ago, finished_at=two_hours_ago)
        ).rowcount
    assert changed >= 1
    page.reload()  # the token survives a reload of the tab (sessionStorage)
    expect(badge).to_have_class("badge red")
    expect(badge).to_have_text("Last synced 2 h ago")
    leads_row = page.locator("#streams tbody tr", has_text="leads").first
    expect(leads_row.locator(".dot")).to_have_class("dot red")
    shoot(page, "red")
    assert page.console_errors == []


def test_no_prompt_when_the_server_has_no_token(store, page) -> None:
    with running_api(WebContext(store=store, tokens=Tokens(), events=EventBus())) as server:
        page.goto(server.url + "/")
        expect(page.locator("#freshness-badge")).to_have_text("Last synced: no streams yet")
        expect(page.locator("#token-form")).to_be_hidden()


def test_sync_now_progress_moves_and_the_run_lands_in_the_runs_table(dashboard, page, shoot) -> None:
    dashboard.simulator.latency_ms = 10
    open_dashboard(page, dashboard)
    page.evaluate(
        """() => {
            window.seenProgress = {};
            new MutationObserver(() => {
              for (const item of document.querySelectorAll('.run-progress')) {
                const value = item.querySelector('[role=progressbar]').getAttribute('aria-valuenow');
                (window.seenProgress[item.dataset.stream] ||= new Set()).add(value);
              }
            }).observe(document.getElementById('progress-list'), {childList: true, subtree: true, attributes: true});
        }"""
    )
    page.click("#sync-now")
    expect(page.locator(".run-progress").first).to_be_visible()
    shoot(page, "progress")
    leads_run = page.locator("#runs tbody tr", has_text="leads").filter(has_text="api").first
    expect(leads_run).to_be_visible(timeout=60_000)
    expect(page.locator("#runs tbody tr[data-status=running]")).to_have_count(0, timeout=60_000)
    expect(page.locator("#progress-empty")).to_be_visible(timeout=60_000)
    expect(leads_run).to_have_attribute("data-status", "ok")
    moved = page.evaluate("Object.values(window.seenProgress).some((values) => values.size >= 2)")
    assert moved, page.evaluate(
        "JSON.stringify(Object.fromEntries(Object.entries(window.seenProgress).map(([k, v]) => [k, [...v]])))"
    )
    expect(page.locator("#freshness-badge")).to_have_class("badge green")
    shoot(page, "after-sync")


def _failed_item(store, error: str) -> int:
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        return int(
            conn.execute(
                sa.insert(odoo_outbox)
                .values(
                    model="crm.lead",
                    operation="write",
                    odoo_id=4242,
                    payload={"name": "x"},
                    status="failed",
                    attempts=5,
                    next_run_at=now,
                    last_error=error,
                    created_at=now,
                    updated_at=now,
                )
                .returning(odoo_outbox.c.id)
            ).scalar_one()
        )


def test_retry_requeues_a_failed_outbox_item(dashboard, page, shoot, store) -> None:
    error = "ValidationError: <b>Stage</b> is required"
    item_id = _failed_item(store, error)
    open_dashboard(page, dashboard)
    row = page.locator(f"#outbox tbody tr[data-item-id='{item_id}']")
    expect(row).to_contain_text(error)  # Odoo's message, as text
    expect(page.locator("#outbox-counts")).to_contain_text("failed: 1")
    shoot(page, "failed-item")
    row.get_by_role("button", name="Retry").click()
    expect(row).to_have_count(0)
    expect(page.locator("#outbox-counts")).to_contain_text("queued: 1")
    with store.connect() as conn:
        status = conn.execute(sa.select(odoo_outbox.c.status).where(odoo_outbox.c.id == item_id)).scalar_one()
    assert status == "queued"


def test_retry_with_the_read_token_says_the_admin_token_is_needed(dashboard, page, store) -> None:
    item_id = _failed_item(store, "boom")
    open_dashboard(page, dashboard, token=READ_TOKEN)
    page.locator(f"#outbox tbody tr[data-item-id='{item_id}']").get_by_role("button", name="Retry").click()
    expect(page.locator("#notice")).to_have_text("This needs the admin token (ODOOSYNC_API_TOKEN).")
    with store.connect() as conn:
        assert conn.execute(sa.select(odoo_outbox.c.status).where(odoo_outbox.c.id == item_id)).scalar_one() == "failed"


def test_a_lead_titled_with_html_renders_as_text(dashboard, page, shoot, store) -> None:
    with dashboard.simulator.env() as env:
        lead_id = env["crm.lead"].search([], limit=1)[0]
        env["crm.lead"].write([lead_id], {"name": XSS})
    sync_everything(dashboard)
    _failed_item(store, XSS)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_dashboard(page, dashboard)
    cell = page.locator(f"#leads tbody tr[data-odoo-id='{lead_id}'] td").nth(1)
    expect(cell).to_have_text(XSS)
    expect(page.locator("#outbox tbody td", has_text=XSS)).to_have_count(1)
    assert page.locator("main img").count() == 0
    shoot(page, "xss-as-text")
    assert dialogs == []
    assert page.console_errors == []


def test_checkpoint_reset_asks_for_confirmation(dashboard, page) -> None:
    sync_everything(dashboard)
    open_dashboard(page, dashboard)
    key = page.locator("#checkpoints tbody tr").first.get_attribute("data-key")
    row = page.locator(f"#checkpoints tbody tr[data-key='{key}']")
    answers = iter([False, True])
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    row.get_by_role("button", name="Reset").click()
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Reset").click()
    expect(row).to_have_count(0)
    assert len(asked) == 2 and key in asked[0]
    checkpoints = httpx.get(
        dashboard.url + "/api/checkpoints", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ).json()
    assert key not in [c["key"] for c in checkpoints["checkpoints"]]


def test_an_odoo_edit_reaches_the_page_by_webhook_without_reload(dashboard, page, shoot) -> None:
    sync_everything(dashboard)
    open_dashboard(page, dashboard)
    expect(page.locator("#live-state")).to_have_text("live")
    with dashboard.simulator.env() as env:
        lead_id = env["crm.lead"].search([], limit=1, order="id desc")[0]
        env["crm.lead"].write([lead_id], {"name": "Renamed in Odoo"})
        (lead,) = env["crm.lead"].read([lead_id], ["write_date"], load=None)
    answer = httpx.post(
        f"{dashboard.url}/api/webhooks/odoo",
        params={"token": WEBHOOK_SECRET},
        json={
            "_model": "crm.lead",
            "_id": lead_id,
            "_action": "Sync(#1)",
            "id": lead_id,
            "write_date": lead["write_date"],
        },
    )
    assert answer.status_code == 202
    cell = page.locator(f"#leads tbody tr[data-odoo-id='{lead_id}'] td").nth(1)
    expect(cell).to_have_text("Renamed in Odoo")
    shoot(page, "after-webhook")


def test_usable_on_a_phone_width_screen(dashboard, page, shoot) -> None:
    sync_everything(dashboard)
    page.set_viewport_size({"width": 390, "height": 844})
    open_dashboard(page, dashboard)
    expect(page.locator("#sync-now")).to_be_in_viewport()
    expect(page.locator("#freshness-badge")).to_be_in_viewport()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    shoot(page, "phone")


def test_sheet_syncs_show_progress_and_pause_resume(dashboard, page, shoot, store) -> None:
    from odoosync.sheets.state import get_state, resolve_customer, save_config, set_running

    customer = resolve_customer(store, "<b>Acme</b>", create=True)
    save_config(
        store,
        customer,
        sheet_url="https://docs.google.com/spreadsheets/d/x/export?format=csv",
        column_map={"title": "Title"},
        key_column=None,
        schedule=None,
        push_to_odoo=False,
    )
    set_running(store, customer, True, progress_percent=40, progress_message="rows 400 of 1000")
    open_dashboard(page, dashboard)
    row = page.locator("#sheets tbody tr", has_text="<b>Acme</b>")
    expect(row).to_be_visible()
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    expect(row).to_contain_text("rows 400 of 1000")
    shoot(page, "sheets")
    row.get_by_role("button", name="Pause").click()
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    assert get_state(store, customer).is_paused
    row.get_by_role("button", name="Resume").click()
    expect(row.get_by_role("button", name="Pause")).to_be_visible()
    assert not get_state(store, customer).is_paused


def test_verify_drift_shows_per_stream_and_clears_after_repair(dashboard, page, shoot, store) -> None:
    from odoosync.store.schema import odoo_partners

    sync_everything(dashboard)
    jobs = dashboard.context.jobs
    with store.transaction(origin="pull") as conn:
        conn.execute(sa.insert(odoo_partners).values(odoo_id=999_999, name="Not in Odoo", raw={}))
    jobs.verify(trigger="manual")
    open_dashboard(page, dashboard)
    partners = page.locator("#verify tbody tr[data-stream='partners']")
    expect(partners).to_have_attribute("data-drift", "1")
    expect(partners).to_have_class("drift")
    expect(page.locator("#verify-drift")).to_have_text("1 drifting")
    expect(page.locator("#verify tbody tr[data-stream='leads']")).to_have_attribute("data-drift", "0")
    shoot(page, "verify-drift")
    jobs.verify(trigger="manual", repair=True)
    page.reload()
    expect(page.locator("#verify-drift")).to_have_text("no drift")
    expect(page.locator("#verify tbody tr.drift")).to_have_count(0)


def test_a_refused_sheet_sync_is_shown_with_an_explicit_accept(dashboard, page, store) -> None:
    from odoosync.sheets.state import resolve_customer, save_config, set_running

    customer = resolve_customer(store, "Globex", create=True)
    save_config(
        store,
        customer,
        sheet_url="https://docs.google.com/spreadsheets/d/x/export?format=csv",
        column_map={"title": "Title"},
        key_column=None,
        schedule=None,
        push_to_odoo=False,
    )
    set_running(
        store,
        customer,
        False,
        refused_deletes=200,
        progress_message="refused: would delete 200 of 200 leads",
        last_error="refused: this sync would delete 200 of the customer's 200 sheet leads",
    )
    open_dashboard(page, dashboard)
    row = page.locator("#sheets tbody tr", has_text="Globex")
    expect(row).to_contain_text("would delete 200 of the customer's 200 sheet leads")
    expect(row.get_by_role("button", name="Sync, deleting 200")).to_be_visible()


def test_the_badge_says_sign_in_before_a_token_is_given(dashboard, page, shoot) -> None:
    page.goto(dashboard.url + "/")
    expect(page.locator("#freshness-badge")).to_have_text("Sign in to see freshness")
    icon = httpx.get(dashboard.url + "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/favicon.svg"


def test_charts_show_the_last_day_and_checkpoints_read_as_words(dashboard, page, shoot, store) -> None:
    from odoosync.store.schema import leads

    sync_everything(dashboard)
    jobs = dashboard.context.jobs
    with store.transaction() as conn:  # one app-side lead the push sends, one it cannot
        conn.execute(sa.insert(leads).values(title="Charted push"))
        conn.execute(sa.insert(leads).values(title="Charted failure", stage="Nowhere"))
    jobs.push_outbox("manual")
    jobs.verify(trigger="manual")
    with dashboard.simulator.env() as env:  # an Odoo edit, pulled the way the schedule does
        lead_id = env["crm.lead"].search([], limit=1, order="id desc")[0]
        env["crm.lead"].write([lead_id], {"name": "Charted in Odoo"})
    jobs.run_job("increments", "schedule")
    page.set_viewport_size({"width": 1400, "height": 900})
    open_dashboard(page, dashboard)

    streams = len(jobs.stream_names())
    durations = page.locator("#chart-durations")
    expect(durations.locator("circle.point").first).to_be_visible()
    with store.connect() as conn:
        pulls = conn.execute(
            sa.select(sa.func.count()).select_from(odoo_sync_runs).where(odoo_sync_runs.c.job == "pull")
        ).scalar_one()
    assert int(durations.get_attribute("data-points")) == pulls > streams  # every run, each stream more than once
    expect(durations.locator(".legend span", has_text="leads")).to_have_count(1)
    rows = page.locator("#chart-rows rect.bar")
    expect(rows.first).to_be_visible()
    expect(page.locator("#chart-rows rect.bar title", has_text="leads:")).to_have_count(1)
    lag = page.locator("#chart-lag")
    expect(lag.locator("circle.point").first).to_be_visible()
    expect(lag.locator(".legend span", has_text="polling")).to_have_count(1)
    outbox = page.locator("#chart-outbox")
    expect(outbox.locator("rect.bar title", has_text="1 pushed")).to_have_count(1)
    expect(outbox.locator("rect.bar title", has_text="1 failed")).to_have_count(1)
    drift = page.locator("#chart-drift")
    expect(drift.locator("circle.point").first).to_be_visible()
    assert int(drift.get_attribute("data-points")) == streams

    cursor = page.locator("#checkpoints tbody tr[data-key='pull:default:leads'] .cursor")
    expect(cursor).to_contain_text("changes up to ")
    assert "{" not in cursor.inner_text()
    page.locator("#charts-section").scroll_into_view_if_needed()
    shoot(page, "charts", full_page=False)
    shoot(page, "full")
    assert page.console_errors == []


def test_discard_gives_up_on_a_failed_item_after_confirmation(dashboard, page, shoot, store) -> None:
    item_id = _failed_item(store, "ValidationError: no such stage")
    open_dashboard(page, dashboard)
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator(f"#outbox tbody tr[data-item-id='{item_id}']")
    row.get_by_role("button", name="Discard").click()
    expect(row).to_have_count(0)
    expect(page.locator("#outbox-counts")).to_contain_text("discarded: 1")
    shoot(page, "discarded")
    with store.connect() as conn:
        assert (
            conn.execute(sa.select(odoo_outbox.c.status).where(odoo_outbox.c.id == item_id)).scalar_one() == "discarded"
        )
