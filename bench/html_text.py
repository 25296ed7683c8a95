"""Benchmark: HTML chatter bodies → text, selectolax (Lexbor) against the stdlib tokenizer (issue 18).

The bodies are the simulator's messages at the seed scale (38,856 at scale 1, seed 0),
generated in this process, no server. Each converter turns every body into text,
``--rounds`` times, alternating; the table shows per converter the best round's wall and
CPU seconds, bodies per second of each, and their ratios to the baseline measured in the
same run (CPU time is the steadier when other work shares the machine):

* **stdlib** (the baseline): ``html.parser``'s tokenizer, written in Python, driving the
  same text rules (the implementation before issue 18, kept here only to be measured);
* **odoosync**: ``odoosync.html_text.html_to_text``, the Lexbor tree walked in Python.

Both must give the same text for every body; the run fails if they do not. The load
average is printed with the figures: other work on the machine slows both alike, so only
the ratio compares.

    .venv/bin/python bench/html_text.py              # seed scale, 5 rounds
    .venv/bin/python bench/html_text.py --scale 0.1 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from odoosync.html_text import (
    _BLOCK_TAGS,
    _CELL_SEPARATOR,
    _CELL_TAGS,
    _DROPPED_TAGS,
    _LIST_TAGS,
    _MARKUP_HINT,
    _link_suffix,
    _list_start,
    _TextWriter,
    _tidy,
    html_to_text,
)
from odoosync.simulator.generator import generate
from odoosync.simulator.records import Database


def stdlib_html_to_text(html: str | None) -> str:
    """The baseline: the stdlib tokenizer's events into the same text rules."""
    if not html:
        return ""
    if not _MARKUP_HINT.search(html):
        return _tidy(html.replace("\r\n", "\n").split("\n"))
    reader = _StdlibReader()
    reader.feed(html)
    reader.close()
    return reader.writer.result()


class _StdlibReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.writer = _TextWriter()
        self.dropped: list[str] = []
        self.links: list[tuple[str, tuple[int, int]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self.dropped == ["head"]:
            self.dropped.clear()
        if self.dropped or tag in _DROPPED_TAGS:
            if tag in _DROPPED_TAGS:
                self.dropped.append(tag)
            return
        writer = self.writer
        if tag == "br":
            writer.line_break()
        elif tag == "a":
            self.links.append((_attribute(attrs, "href"), writer.mark()))
        elif tag == "li":
            writer.start_item()
        elif tag in _LIST_TAGS:
            writer.start_list(ordered=tag == "ol", start=_list_start(_attribute(attrs, "start")))
        elif tag in _CELL_TAGS:
            writer.separator(_CELL_SEPARATOR)
        elif tag == "pre":
            writer.end_block()
            writer.preformatted += 1
        elif tag in _BLOCK_TAGS:
            writer.end_block()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" or tag in _DROPPED_TAGS:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.dropped:
            if tag in self.dropped:
                del self.dropped[len(self.dropped) - 1 - self.dropped[::-1].index(tag) :]
            return
        writer = self.writer
        if tag == "a":
            if self.links:
                href, start = self.links.pop()
                writer.text(_link_suffix(href, writer.since(start)))
        elif tag == "li":
            writer.end_block()
        elif tag in _LIST_TAGS:
            writer.end_list()
        elif tag == "pre":
            writer.preformatted = max(0, writer.preformatted - 1)
            writer.end_block()
        elif tag in _BLOCK_TAGS:
            writer.end_block()

    def handle_data(self, data: str) -> None:
        if not self.dropped:
            self.writer.text(data)


def _attribute(attrs: list[tuple[str, str | None]], name: str) -> str:
    return next((value or "" for key, value in attrs if key == name), "")


def chatter_bodies(scale: float) -> list[str | None]:
    """Every generated message's body, in id order (as the chatter stream reads them)."""
    database = Database()
    generate(database, scale, 0)
    return [row.get("body") for _, row in sorted(database.tables["mail.message"].rows.items())]


def timed(convert: Callable[[str | None], str], bodies: list[str | None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        convert(body)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="simulator data volume (1.0 = the seed's)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per converter (the best one counts)")
    args = parser.parse_args()

    bodies = chatter_bodies(args.scale)
    differ = sum(stdlib_html_to_text(body) != html_to_text(body) for body in bodies)
    if differ:
        raise SystemExit(f"the converters disagree on {differ} of {len(bodies)} bodies")
    converters: dict[str, Callable[[str | None], str]] = {
        "stdlib html.parser (baseline)": stdlib_html_to_text,
        "odoosync (selectolax / Lexbor)": html_to_text,
    }
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, convert in converters.items():
            wall, cpu = timed(convert, bodies)
            best_wall, best_cpu = best.get(name, (wall, cpu))
            best[name] = (min(wall, best_wall), min(cpu, best_cpu))
    size = sum(len(body or "") for body in bodies)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"HTML → text: {len(bodies):,} generated chatter bodies ({size / 1e6:.1f} MB, scale {args.scale:g}), "
        f"same text from both; best of {args.rounds} rounds; load average {load}"
    )
    print()
    print("| converter | wall s | bodies/s | CPU s | bodies per CPU s | ratio (wall) | ratio (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base_wall, base_cpu = best["stdlib html.parser (baseline)"]
    for name, (wall, cpu) in best.items():
        print(
            f"| {name} | {wall:.2f} | {len(bodies) / wall:,.0f} | {cpu:.2f} | {len(bodies) / cpu:,.0f} | "
            f"{base_wall / wall:.2f}× | {base_cpu / cpu:.2f}× |"
        )


if __name__ == "__main__":
    main()
