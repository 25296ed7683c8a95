"""Rows a mirror target writes keep CPython's compact dict layout.

A row dict whose keys are all exact ``str`` stores them in the compact (unicode) layout;
one key of a str subclass, such as SQLAlchemy's ``quoted_name`` column names, turns the
whole dict into the general layout, about 2.7 times its size for a lead. A round of
thousands of rows pays that in peak memory, so the scope a target adds must be plain str.
"""

from __future__ import annotations

import sys

from odoosync.streams.base import PageContext
from odoosync.streams.mirror import MirrorTarget
from odoosync.streams.registry import stream_catalog


def _mirror_targets() -> list[tuple[str, MirrorTarget]]:
    return [(s.name, s.target) for s in stream_catalog() if isinstance(s.target, MirrorTarget)]


def test_every_mirror_stream_is_checked() -> None:
    names = {name for name, _ in _mirror_targets()}
    assert {"stages", "partners", "leads"} <= names


def test_the_scope_a_target_adds_has_plain_str_keys() -> None:
    ctx = PageContext(client=None, store=None, backend="b1")  # type: ignore[arg-type]
    for name, target in _mirror_targets():
        scope = target.scope(ctx)
        assert scope, name
        assert all(type(key) is str for key in scope), (name, [type(k) for k in scope])
        assert all(type(key) is str for key in target.key), (name, target.key)


def test_a_row_with_the_scope_added_keeps_the_compact_layout() -> None:
    ctx = PageContext(client=None, store=None, backend="b1")  # type: ignore[arg-type]
    for name, target in _mirror_targets():
        row = {f"column_{i}": i for i in range(20)}
        compact = sys.getsizeof(dict(row, **{str(k): v for k, v in target.scope(ctx).items()}))
        for column, value in target.scope(ctx).items():  # as write_page adds it
            row.setdefault(column, value)
        assert sys.getsizeof(row) <= compact, name
