"""The garbage collector's settings (``odoosync/heap.py``): set by the commands that
sync, once their modules are loaded, and never by the library."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from odoosync import heap
from odoosync.cli import app

SETTLED = (heap.YOUNG_THRESHOLD, heap.OLDER_EVERY, heap.OLDER_EVERY)


@pytest.fixture
def python_defaults() -> Iterator[None]:
    """The interpreter's own settings before and after each test (the suite shares it)."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_settle_freezes_what_is_loaded_and_raises_the_thresholds(python_defaults: None) -> None:
    heap.settle()
    assert gc.get_threshold() == SETTLED
    assert gc.get_freeze_count() > 1000  # every module loaded so far is out of the scans
    assert gc.isenabled()  # cycles are still collected, only less often


@pytest.mark.parametrize(
    "args",
    [
        ("sync", "all"),
        ("serve", "--host", "0.0.0.0"),  # refused: a public address needs an API token
        ("worker",),
        ("demo", "--backends", "2", "--serve"),
    ],
    ids=["sync", "serve", "worker", "demo"],
)
def test_the_commands_that_sync_settle_the_heap_before_they_work(
    args: tuple[str, ...], python_defaults: None, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    # Each is stopped by bad input right after its imports: the settings apply first.
    monkeypatch.setenv("DATABASE_URL", "sqlite:///nowhere/odoosync.db")
    for name in ("ODOO_URL", "ODOO_DB", "ODOO_USERNAME", "ODOO_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code != 0, result.output
    assert gc.get_threshold() == SETTLED


def test_other_commands_and_the_library_leave_the_collector_alone(python_defaults: None) -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    import odoosync.library  # noqa: F401 - importing the library changes nothing either

    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
