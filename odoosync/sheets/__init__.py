"""Leads from Google Sheets: one sheet per customer into ``leads``.

Modules, each one concept:

* ``urls``: the URL forms people paste → the CSV address;
* ``guard``: which addresses a user-supplied URL may reach (SSRF rules, at connect time);
* ``fetch``: conditional, retried, capped download into a spooled file;
* ``parse``: the CSV body as streamed chunks of records with spreadsheet row numbers;
* ``mapping``: header matching, value normalisation, row keys, row errors (pure);
* ``stage``: a private SQLite scratch file: duplicates, sorted checksum, the diff plan;
* ``previous``: ``lead_sync_rows``, the last sync's rows (only changed rows cost);
* ``deletes``: the mass-delete guard (a sync deleting too much is refused);
* ``diff``: the plan applied to the customer's sheet leads in batches, in one transaction;
* ``state``: ``lead_sync_states`` (configuration, outcome, progress, pause);
* ``engine``: one observable run per customer (lock, run log, phases, outcomes);
* ``cache``: the 5-minute cache of lead counts and recent leads;
* ``metrics``: last-run numbers and rates over recent runs;
* ``schedule``: one scheduled job per sheet.

See ``docs/sheets.md``.
"""
