"""Sheet sync metrics: the last run's numbers and rates over recent runs.

The last run's duration and row counts come from ``lead_sync_states``; the rates come
from the run log (``ops.odoo_sync_runs``, job ``sheets``, stream ``sheet:<customer>``):
success rate and error rate over the finished runs in the window (a run the mass-delete
guard refused counts as finished and not successful; skipped runs — paused, or the lock
held — count for neither), the average duration, retries, and the share of
rows that were rejected.
"""

from __future__ import annotations

from typing import Any

from odoosync.models import RunStatus
from odoosync.sheets.engine import JOB, stream_name
from odoosync.sheets.state import get_state
from odoosync.store import Store, runs

__all__ = ["sheet_metrics", "DEFAULT_WINDOW"]

DEFAULT_WINDOW = 100


def sheet_metrics(store: Store, customer_id: int, *, window: int = DEFAULT_WINDOW) -> dict[str, Any]:
    """Metrics of one customer's sheet (snake_case; the API renders camelCase)."""
    state = get_state(store, customer_id)
    recent = runs.list_runs(store, window, job=JOB, stream=stream_name(customer_id))
    finished = [
        run for run in recent if run.status in (RunStatus.OK, RunStatus.FAILED, RunStatus.PARTIAL, RunStatus.REFUSED)
    ]
    succeeded = sum(1 for run in finished if run.status is RunStatus.OK)
    failed = sum(1 for run in finished if run.status is not RunStatus.OK)
    rows = sum(run.counters.fetched for run in finished)
    rejected = sum(run.counters.failed for run in finished)
    durations = [run.stored_duration_ms for run in finished if run.stored_duration_ms is not None]
    return {
        "customer_id": customer_id,
        "last_sync_at": state.last_sync_at,
        "sync_duration": state.sync_duration_ms,
        "rows_processed": state.rows_processed,
        "rows_inserted": state.rows_inserted,
        "rows_updated": state.rows_updated,
        "rows_deleted": state.rows_deleted,
        "error_count": state.error_count,
        "retry_count": state.retry_count,
        "window_runs": len(recent),
        "finished_runs": len(finished),
        "successful_runs": succeeded,
        "failed_runs": failed,
        "skipped_runs": sum(1 for run in recent if run.status is RunStatus.SKIPPED),
        "refused_runs": sum(1 for run in recent if run.status is RunStatus.REFUSED),
        "success_rate": round(succeeded / len(finished), 4) if finished else None,
        "error_rate": round(failed / len(finished), 4) if finished else None,
        "row_error_rate": round(rejected / rows, 4) if rows else None,
        "average_duration_ms": round(sum(durations) / len(durations)) if durations else None,
        "total_retries": sum(run.counters.retries for run in finished),
    }
