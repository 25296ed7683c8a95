"""The garbage collector's settings (``odoosync/heap.py``): set by the commands that
sync, once their modules are loaded, and never by the library."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
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


_COUNT_ARENAS = """
import ctypes, ctypes.util, sys, threading
from odoosync import heap
if sys.argv[1] == "limited":
    assert heap.limit_malloc_arenas()
def allocate(barrier):
    barrier.wait()  # every thread alive at once: none can inherit a finished one's arena
    kept = [b"x" * 100_000 for _ in range(20)]  # from the C allocator (> 512 bytes)
    barrier.wait()
barrier = threading.Barrier(8)
threads = [threading.Thread(target=allocate, args=(barrier,)) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.open_memstream.restype = ctypes.c_void_p
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(text.value.decode().count("<heap nr="))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the C library is not glibc: no arena limit to set")
@pytest.mark.parametrize("mode", ["limited", "default"])
def test_threads_share_at_most_two_malloc_arenas_once_limited(mode: str) -> None:
    # In a child: the suite's own process has made its arenas long ago.
    found = subprocess.run(
        [sys.executable, "-c", _COUNT_ARENAS, mode], capture_output=True, text=True, check=True, timeout=60
    )
    arenas = int(found.stdout)
    if mode == "limited":
        assert arenas <= heap.MALLOC_ARENAS
    else:
        assert arenas > heap.MALLOC_ARENAS  # what the limit saves: glibc's one arena per thread


_SCATTERED_FREE = """
import sys
from odoosync import heap
def rss_kib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4
blocks = [bytearray(4000) for _ in range(40_000)]  # 160 MB from the C allocator's heap
kept = blocks[::16]  # one block in sixteen stays: the free pages lie between them
del blocks
before = rss_kib()
released = heap.release_free_memory() if sys.argv[1] == "release" else False
print(released, before - rss_kib())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the C library is not glibc: no malloc_trim")
@pytest.mark.parametrize("mode", ["release", "keep"])
def test_free_pages_in_the_middle_of_the_heap_go_back_to_the_system_once_released(mode: str) -> None:
    found = subprocess.run(
        [sys.executable, "-c", _SCATTERED_FREE, mode], capture_output=True, text=True, check=True, timeout=60
    )
    released, returned_kib = found.stdout.split()
    if mode == "release":
        assert released == "True"
        assert int(returned_kib) > 100_000  # most of the 150 MB freed between the kept blocks
    else:
        assert int(returned_kib) < 10_000  # glibc keeps them by itself: what the release is for
