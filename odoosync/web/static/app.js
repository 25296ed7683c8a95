// odoosync dashboard: plain JavaScript, no build step, nothing from the internet.
//
// Every value that comes from Odoo, a sheet or the database is put on the page with
// textContent (never innerHTML), so a lead titled "<img src=x onerror=alert(1)>" shows
// those characters. The API token is kept for this tab only (sessionStorage). Live run
// progress comes from /api/events, read with fetch() so the Authorization header can be
// sent (EventSource cannot send headers, and a token in a URL ends up in access logs).
"use strict";

(() => {
  const TOKEN_KEY = "odoosync.token";
  const REFRESH_MS = 30000;       // data refresh when nothing happens
  const BADGE_TICK_MS = 15000;    // the badge's "N min ago" counts up between refreshes
  const RECONNECT_MS = 3000;
  const AMBER_AFTER_S = 1800, RED_AFTER_S = 3600;

  const state = { status: null, statusAt: 0, bars: new Map(), refreshTimer: null, wakeEvents: null };
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ tokens and requests

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  class NeedsToken extends Error {}

  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (token()) headers.Authorization = "Bearer " + token();
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
    });
    if (response.status === 401) {
      askForToken(token() ? "That token was refused." : "");
      throw new NeedsToken("token needed");
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
    if (!response.ok) {
      const error = new Error(describeError(response.status, data));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function describeError(code, data) {
    const detail = data && (data.message || data.detail);
    const text = typeof detail === "string" ? detail : JSON.stringify(detail);
    if (code === 403) return "This needs the admin token (ODOOSYNC_API_TOKEN).";
    return `HTTP ${code}: ${text || "request failed"}`;
  }

  function askForToken(message) {
    const badge = $("freshness-badge");
    badge.className = "badge unknown";
    badge.textContent = "Sign in to see freshness";
    $("token-form").hidden = false;
    $("main").hidden = true;
    const error = $("token-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("token-input").focus();
  }

  function tokenAccepted() {
    $("token-form").hidden = true;
    $("main").hidden = false;
    $("forget-token").hidden = !token();
  }

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.appendChild(cell);
      else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(tableId, rows) {
    const body = document.querySelector(`#${tableId} tbody`);
    body.replaceChildren(...rows);
  }

  function button(label, onClick, className) {
    const node = el("button", label, className);
    node.type = "button";
    node.addEventListener("click", async () => {
      node.disabled = true;
      try { await onClick(); } catch (error) { report(error); } finally { node.disabled = false; }
    });
    return node;
  }

  function notice(message, kind) {
    const node = $("notice");
    node.textContent = message;
    node.className = "notice " + (kind || "info");
    node.hidden = !message;
  }

  function report(error) {
    if (error instanceof NeedsToken) return;
    notice(error.message || String(error), "error");
  }

  function ago(seconds) {
    if (seconds === null || seconds === undefined) return "never";
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 172800) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} days ago`;
  }

  // Today's times as 14:05:09, older ones with their date; the full moment on hover.
  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (isNaN(date)) return String(iso);
    const node = el("time", date.toDateString() === new Date().toDateString()
      ? date.toLocaleTimeString() : date.toLocaleString());
    node.dateTime = date.toISOString();
    node.title = date.toString();
    return node;
  }

  function colourOf(seconds) {
    if (seconds === null || seconds === undefined) return "red";
    if (seconds < AMBER_AFTER_S) return "green";
    return seconds <= RED_AFTER_S ? "amber" : "red";
  }

  // ------------------------------------------------------------------ freshness badge

  function renderBadge() {
    const badge = $("freshness-badge");
    const status = state.status;
    if (!status) return;
    const elapsed = (Date.now() - state.statusAt) / 1000;
    const ages = status.streams.map((s) => (s.age_seconds === null ? null : s.age_seconds + elapsed));
    const stalest = ages.length === 0 || ages.includes(null) ? null : Math.max(...ages);
    // The server's colour uses the configured thresholds; between refreshes the age
    // keeps growing, so the colour can only get worse until the next refresh.
    const worst = ["green", "amber", "red"];
    const server = status.freshness;
    const local = ages.length ? colourOf(stalest) : server;
    const colour = worst[Math.max(worst.indexOf(server), worst.indexOf(local))];
    badge.className = "badge " + colour;
    badge.dataset.colour = colour;
    badge.textContent = ages.length ? `Last synced ${ago(stalest)}` : "Last synced: no streams yet";
    badge.title = `${colour}: green under 30 min, amber 30–60 min, red over 60 min (the stalest stream counts)`;
  }

  // ------------------------------------------------------------------ sections

  async function loadStatus() {
    const status = await api("/api/status");
    state.status = status;
    state.statusAt = Date.now();
    renderBadge();
    fill("streams", status.streams.map((s) => {
      const run = s.last_run || {};
      const dot = el("span", s.freshness, "dot " + s.freshness);
      const rows = run.id ? `${run.fetched} read · ${run.inserted} new · ${run.updated} changed · ${run.deleted} deleted` : "";
      const lastRun = run.id ? el("span", `${run.status} · `) : "never";
      if (run.id) lastRun.append(when(run.started_at));
      const problems = [run.error || (run.failed ? `${run.failed} failed` : ""),
        s.quarantined ? `${s.quarantined} quarantined (GET /api/rejects)` : ""].filter(Boolean).join(" · ");
      const tr = row([s.stream, dot, ago(s.age_seconds), lastRun, rows, problems, when(s.next_run_at)]);
      tr.dataset.quarantined = s.quarantined || 0;
      return tr;
    }));
    const counts = status.outbox || {};
    $("outbox-counts").replaceChildren(
      ...["queued", "processing", "done", "failed", "discarded"].map((name) => el("span", `${name}: ${counts[name] || 0}`, "pill " + name)),
    );
  }

  async function loadRuns() {
    const data = await api("/api/runs?limit=25");
    fill("runs", data.runs.map((r) => {
      const tr = row([
        r.id, r.stream, r.mode, r.trigger, el("span", r.status, "status " + r.status), when(r.started_at),
        r.finished_at ? `${(r.duration_ms / 1000).toFixed(1)} s` : "…", r.fetched,
        r.inserted + r.updated + r.deleted, r.error || "",
      ]);
      tr.dataset.runId = r.id;
      tr.dataset.status = r.status;
      return tr;
    }));
  }

  async function loadOutbox() {
    const data = await api("/api/outbox?status=failed&limit=50");
    fill("outbox", data.items.map((item) => {
      const retry = button("Retry", async () => {
        const result = await api("/api/outbox/retry", { method: "POST", body: { ids: [item.id] } });
        notice(`Re-queued ${result.requeued} item(s).`, "info");
        await Promise.all([loadOutbox(), loadStatus()]);
      });
      const discard = button("Discard", async () => {
        if (!window.confirm(`Give up on outbox item ${item.id}? It will never be pushed; its lead is marked.`)) return;
        await api("/api/outbox/discard", { method: "POST", body: { ids: [item.id] } });
        notice(`Discarded item ${item.id}.`, "info");
        await Promise.all([loadOutbox(), loadStatus()]);
      }, "danger");
      const actions = el("div", null, "actions");
      actions.append(retry, discard);
      const tr = row([item.id, item.model, item.operation, item.odoo_id, item.attempts, item.last_error || "", actions]);
      tr.dataset.itemId = item.id;
      return tr;
    }));
    $("outbox-empty").hidden = data.items.length > 0;
  }

  async function loadCheckpoints() {
    const data = await api("/api/checkpoints");
    fill("checkpoints", data.checkpoints.map((c) => {
      const reset = button("Reset", async () => {
        if (!window.confirm(`Reset checkpoint ${c.key}? The next run starts over from the beginning.`)) return;
        await api(`/api/checkpoints/${encodeURIComponent(c.key)}`, { method: "DELETE" });
        notice(`Checkpoint ${c.key} reset.`, "info");
        await loadCheckpoints();
      }, "danger");
      const cursor = el("span", c.described, "cursor");
      cursor.title = JSON.stringify(c.cursor);  // the stored document, for whoever needs it
      const tr = row([c.key, cursor, when(c.updated_at), reset]);
      tr.dataset.key = c.key;
      return tr;
    }));
  }

  async function loadSla() {
    const data = await api("/api/dashboard/sla");
    $("sla-count").textContent = String(data.count);
    fill("sla", data.breaches.map((b) => row([b.odoo_id || b.id, b.title, b.owner_name, b.deadline, when(b.sla_escalated_at)])));
    $("sla-empty").hidden = data.breaches.length > 0;
  }

  async function loadVerify() {
    const data = await api("/api/verify");
    const drift = $("verify-drift");
    drift.textContent = data.drift === null ? "" : (data.drift === 0 ? "no drift" : `${data.drift} drifting`);
    drift.className = "pill " + (data.drift ? "failed" : "done");
    fill("verify", data.streams.map((d) => {
      const tr = row([d.stream, d.in_odoo ?? "", d.in_database ?? "", d.missing ?? "", d.extra ?? "",
        d.stamps_checked === false ? "–" : (d.stale ?? ""), when(d.checked_at)]);
      tr.dataset.stream = d.stream;
      tr.dataset.drift = d.drift ?? "";
      if (d.drift) tr.className = "drift";
      return tr;
    }));
    $("verify-empty").hidden = data.streams.length > 0;
  }

  async function loadLeads() {
    const data = await api("/api/dashboard/leads?limit=15");
    fill("leads", data.leads.map((l) => {
      const tr = row([l.odoo_id, l.title, l.stage, l.status, l.owner_name, when(l.updated_at)]);
      tr.dataset.odooId = l.odoo_id;
      return tr;
    }));
  }

  async function loadWorkers() {
    // Shown only under the distributed engine (serve --engine procrastinate and its workers).
    const data = await api("/api/workers");
    $("workers-section").hidden = data.engine !== "procrastinate";
    $("workers-count").textContent = `${data.workers.length} live`;
    fill("workers", data.workers.map((w) => row([String(w.id), when(w.last_heartbeat), String(w.running)])));
    fill("queue", data.jobs.map((j) => {
      const tr = row([j.backend, j.task_name, j.status, String(j.count)]);
      tr.dataset.backend = j.backend;
      return tr;
    }));
  }

  async function loadSheets() {
    let sheets;
    try {
      sheets = await api("/api/leads/sync/status/all");
    } catch (error) {
      if (error.status === 404 || error.status === 503) { $("sheets-section").hidden = true; return; }
      throw error;
    }
    $("sheets-section").hidden = sheets.length === 0;
    fill("sheets", sheets.map((s) => {
      const id = encodeURIComponent(s.customerId);
      const action = s.isPaused
        ? button("Resume", async () => { await api(`/api/leads/sync/resume?customerId=${id}`, { method: "POST" }); await loadSheets(); })
        : button("Pause", async () => { await api(`/api/leads/sync/pause?customerId=${id}`, { method: "POST" }); await loadSheets(); });
      const percent = Math.max(0, Math.min(100, Number(s.progressPercent) || 0));
      const bar = progressBar(percent, s.isPaused ? "paused" : (s.progressMessage || (s.isRunning ? "running" : "idle")));
      const actions = el("div", null, "actions");
      actions.appendChild(action);
      if (s.refusedDeletes !== null && s.refusedDeletes !== undefined) {
        // The mass-delete guard refused the last sync: accepting it is an explicit, confirmed step.
        actions.appendChild(button(`Sync, deleting ${s.refusedDeletes}`, async () => {
          if (!window.confirm(`Delete ${s.refusedDeletes} lead(s) of ${s.customerName || s.customerId} that left the sheet?`)) return;
          await api(`/api/leads/sync/trigger?customerId=${id}&allowMassDelete=true`, { method: "POST" });
          await loadSheets();
        }, "danger"));
      }
      return row([s.customerName || s.customerId, bar, when(s.lastSyncAt),
        `${s.rowsProcessed || 0} read · ${s.rowsInserted || 0} new · ${s.rowsUpdated || 0} changed · ${s.rowsDeleted || 0} deleted`,
        s.lastError || "", actions]);
    }));
  }

  function progressBar(percent, label) {
    const wrap = el("div", null, "progress");
    const bar = el("div", null, "bar");
    bar.style.width = `${percent}%`;
    wrap.setAttribute("role", "progressbar");
    wrap.setAttribute("aria-valuenow", String(Math.round(percent)));
    wrap.appendChild(bar);
    wrap.appendChild(el("span", label, "label"));
    return wrap;
  }

  // ------------------------------------------------------------------ charts (inline SVG)

  const SVG = "http://www.w3.org/2000/svg";
  const W = 360, H = 150, PAD = { left: 38, right: 8, top: 8, bottom: 20 };
  const COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
  const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#92400e", "#475569"];

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const step = 10 ** Math.floor(Math.log10(value));
    return Math.ceil(value / step) * step;
  }

  // A frame with a y axis from 0 to yMax; returns [svg root, x→px, y→px].
  function frame(holder, yMax, xFrom, xTo) {
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart-svg" });
    const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    const x = (v) => PAD.left + (xTo > xFrom ? ((v - xFrom) / (xTo - xFrom)) * plotW : plotW / 2);
    const y = (v) => PAD.top + plotH - (v / yMax) * plotH;
    for (const tick of [0, yMax / 2, yMax]) {
      root.appendChild(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(tick), y2: y(tick), class: "grid" }));
      root.appendChild(svg("text", { x: PAD.left - 4, y: y(tick) + 3, class: "tick", "text-anchor": "end" }, COMPACT.format(tick)));
    }
    holder.replaceChildren(root);
    return [root, x, y];
  }

  function legend(holder, names, colours = PALETTE) {
    const list = el("div", null, "legend");
    names.forEach((name, i) => {
      const item = el("span", name);
      item.style.setProperty("--swatch", colours[i % colours.length]);
      list.appendChild(item);
    });
    holder.appendChild(list);
  }

  function empty(holder, text) {
    holder.replaceChildren(el("p", text || "Nothing in the last 24 hours.", "muted"));
    holder.dataset.points = "0";
  }

  // Points over time, one colour per series: [{series, at, value, label}].
  function scatter(holder, points, since, now) {
    if (!points.length) return empty(holder);
    const names = [...new Set(points.map((p) => p.series))].sort();
    const [root, x, y] = frame(holder, niceMax(Math.max(...points.map((p) => p.value))), since, now);
    for (const p of points) {
      const dot = svg("circle", { cx: x(Date.parse(p.at)), cy: y(p.value), r: 3, class: "point",
        fill: PALETTE[names.indexOf(p.series) % PALETTE.length] });
      dot.appendChild(svg("title", {}, p.label));
      root.appendChild(dot);
    }
    root.appendChild(svg("text", { x: PAD.left, y: H - 4, class: "tick" }, "24 h ago"));
    root.appendChild(svg("text", { x: W - PAD.right, y: H - 4, class: "tick", "text-anchor": "end" }, "now"));
    holder.dataset.points = String(points.length);
    legend(holder, names);
  }

  // Bars side by side: [{label, values: {series: number}}], series in a fixed order.
  function bars(holder, groups, series, labelEvery, colours = PALETTE) {
    const total = groups.reduce((sum, g) => sum + series.reduce((s, name) => s + (g.values[name] || 0), 0), 0);
    if (!total) return empty(holder);
    const [root, , y] = frame(holder, niceMax(Math.max(...groups.flatMap((g) => series.map((s) => g.values[s] || 0)))), 0, 1);
    const slot = (W - PAD.left - PAD.right) / groups.length;
    const width = Math.max(1, (slot * 0.8) / series.length);
    let drawn = 0;
    groups.forEach((g, i) => {
      series.forEach((name, j) => {
        const value = g.values[name] || 0;
        if (!value) return;
        const bar = svg("rect", { x: PAD.left + i * slot + slot * 0.1 + j * width, y: y(value), width,
          height: Math.max(0.5, y(0) - y(value)), class: "bar", fill: colours[j % colours.length] });
        bar.appendChild(svg("title", {}, `${g.label}: ${value} ${name}`));
        root.appendChild(bar);
        drawn += 1;
      });
      if (i % labelEvery === 0) {
        root.appendChild(svg("text", { x: PAD.left + i * slot + slot / 2, y: H - 4, class: "tick", "text-anchor": "middle" }, g.label));
      }
    });
    holder.dataset.points = String(drawn);
    if (series.length > 1) legend(holder, series, colours);
  }

  async function loadCharts() {
    const data = await api("/api/dashboard/charts?hours=24");
    const since = Date.parse(data.since), now = Date.parse(data.now);
    scatter($("chart-durations"), data.runs.map((r) => ({ series: r.stream, at: r.at, value: r.seconds,
      label: `${r.stream}: ${r.seconds.toFixed(2)} s, ${r.rows} rows (${r.status})` })), since, now);
    const rows = new Map();
    for (const r of data.runs) rows.set(r.stream, (rows.get(r.stream) || 0) + r.rows);
    bars($("chart-rows"), [...rows.entries()].map(([stream, n]) => ({ label: stream, values: { rows: n } })), ["rows"],
      Math.ceil(rows.size / 5));
    scatter($("chart-lag"), data.lag.map((l) => ({ series: l.via, at: l.at, value: l.seconds,
      label: `${l.via}: ${l.seconds.toFixed(1)} s` })), since, now);
    bars($("chart-outbox"), data.outbox.map((b) => ({ label: new Date(b.hour).getHours() + "h",
      values: { pushed: b.pushed, failed: b.failed } })), ["pushed", "failed"], 6, ["#16a34a", "#dc2626"]);
    scatter($("chart-drift"), data.drift.map((d) => ({ series: d.stream, at: d.at, value: d.drift,
      label: `${d.stream}: ${d.drift} drifting` })), since, now);
  }

  const SECTIONS = [loadStatus, loadCharts, loadRuns, loadOutbox, loadCheckpoints, loadVerify, loadSla, loadLeads, loadSheets, loadWorkers];

  async function refresh() {
    const results = await Promise.allSettled(SECTIONS.map((load) => load()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed && !(failed.reason instanceof NeedsToken)) report(failed.reason);
    if (!results.some((r) => r.status === "rejected" && r.reason instanceof NeedsToken)) tokenAccepted();
    return !failed;
  }

  function refreshSoon(delay = 300) {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, delay);
  }

  // ------------------------------------------------------------------ live progress

  function onEvent(kind, data) {
    if (kind.startsWith("run.")) {
      const key = String(data.run_id || data.stream);
      if (kind === "run.finished") {
        state.bars.delete(key);
        refreshSoon();
      } else {
        const previous = state.bars.get(key) || {};
        state.bars.set(key, Object.assign(previous, data, { kind }));
        if (kind === "run.started") refreshSoon(800);
      }
      renderBars();
    } else if (kind === "outbox.pushed" || kind === "record.pulled" || kind.startsWith("sheet")) {
      refreshSoon();
    }
  }

  function renderBars() {
    const list = $("progress-list");
    const bars = [...state.bars.values()].map((run) => {
      const total = Number(run.total) || 0;
      const done = Number(run.done) || 0;
      // Odoo does not say how many records an increment will bring, so without a total
      // the bar grows with every page read and approaches the end without reaching it.
      const percent = total > 0 ? Math.min(100, (100 * done) / total) : 2 + 93 * (1 - Math.exp(-done / 150));
      const label = `${run.stream} · ${run.mode || ""} · ${run.phase || "starting"} · ${done}${total ? "/" + total : ""} · ${run.fetched || 0} read`;
      const item = el("div", null, "run-progress");
      item.dataset.stream = run.stream;
      item.appendChild(progressBar(percent, label));
      return item;
    });
    list.replaceChildren(...bars);
    $("progress-empty").hidden = bars.length > 0;
  }

  async function followEvents() {
    for (;;) {
      try {
        const headers = { Accept: "text/event-stream" };
        if (token()) headers.Authorization = "Bearer " + token();
        const response = await fetch("/api/events?heartbeat=15", { headers, cache: "no-store" });
        if (response.status === 401) { await eventsWait(RECONNECT_MS); continue; }  // the token form is up
        if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
        $("live-state").textContent = "live";
        refreshSoon(0);  // whatever happened while not connected
        await readEvents(response.body.getReader());
      } catch (_) {
        // the stream ended or the server restarted: try again shortly
      }
      $("live-state").textContent = "reconnecting…";
      await eventsWait(RECONNECT_MS);
    }
  }

  // A wait that a newly typed token cuts short, so live updates start at once.
  function eventsWait(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      state.wakeEvents = () => { clearTimeout(timer); resolve(); };
    });
  }

  async function readEvents(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let kind = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) kind = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (!data) continue;
        try { onEvent(kind, JSON.parse(data)); } catch (_) { /* a malformed event is ignored */ }
      }
    }
  }

  // ------------------------------------------------------------------ start

  async function syncNow() {
    const result = await api("/api/sync/all", { method: "POST", body: {} });
    notice(`Sync started (run ${result.run_id ?? "queued"}).`, "info");
    refreshSoon();
  }

  function start() {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token-input").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      $("token-input").value = "";
      refresh();
      if (state.wakeEvents) state.wakeEvents();
    });
    $("forget-token").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken("");
    });
    const sync = $("sync-now");
    sync.addEventListener("click", async () => {
      sync.disabled = true;
      try { await syncNow(); } catch (error) { report(error); } finally { sync.disabled = false; }
    });
    refresh().then(() => followEvents());
    setInterval(refresh, REFRESH_MS);
    setInterval(renderBadge, BADGE_TICK_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
