"""HTML → readable plain text, for chatter bodies and activity notes.

Odoo stores message bodies and activity notes as HTML (``fields.Html``). The app shows
them as text, so they are rendered the way a person would read them:

* entities are decoded (``&amp;`` → ``&``, ``&nbsp;`` → a space);
* paragraphs, headings, divs, table rows and list items start on their own line; ``<br>``
  is a line break (two of them leave a blank line);
* list items are bulleted (``- ``) or numbered (``1. ``), and nested lists are indented
  two spaces per level;
* ``<script>``, ``<style>``, ``<head>``, ``<template>`` and comments are dropped;
* links keep their text, followed by the URL in parentheses when it says something the
  text does not (``Quote (https://x.example/q/7)``; ``mailto:a@b.example`` shown as
  ``a@b.example`` is not repeated);
* an empty or missing body is the empty string; text without markup is returned as is
  (whitespace trimmed), without parsing.

The tree is walked with an explicit stack, not recursion, so deeply nested or malformed
markup cannot exhaust Python's stack, and a megabyte body costs one parse and one pass.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

__all__ = ["html_to_text"]

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "details", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "legend", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_DROPPED_TAGS = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"}
)
_LIST_TAGS = frozenset({"ul", "ol"})
_CELL_TAGS = frozenset({"td", "th"})
_CELL_SEPARATOR = " | "
_INDENT = "  "
_WHITESPACE = re.compile(r"[\s\u200b]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_URL_PREFIXES = re.compile(r"^(?:https?://|mailto:|tel:)", re.IGNORECASE)
_MARKUP_HINT = re.compile(r"[<&]")


def html_to_text(html: str | None) -> str:
    """Readable text of an HTML fragment or document; ``""`` for None or empty input."""
    if not html:
        return ""
    if not _MARKUP_HINT.search(html):
        return _tidy(html.replace("\r\n", "\n").split("\n"))
    soup = BeautifulSoup(html, "html.parser")
    writer = _TextWriter()
    _walk(soup, writer)
    return writer.result()


def _walk(root: Tag, writer: _TextWriter) -> None:
    """Visit the tree depth-first; a Tag is pushed twice (open, then close)."""
    stack: list[tuple[object, bool]] = [(child, False) for child in reversed(root.contents)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes, CDATA, …
                writer.text(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name.lower()
        if closing:
            _close(name, node, writer)
            continue
        if name in _DROPPED_TAGS:
            continue
        _open(name, node, writer)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))


def _open(name: str, node: Tag, writer: _TextWriter) -> None:
    if name == "br":
        writer.line_break()
    elif name == "li":
        writer.start_item()
    elif name in _LIST_TAGS:
        writer.start_list(ordered=name == "ol", start=_list_start(node))
    elif name in _CELL_TAGS:
        writer.separator(_CELL_SEPARATOR)
    elif name == "pre":
        writer.end_block()
        writer.preformatted += 1
    elif name in _BLOCK_TAGS:
        writer.end_block()


def _close(name: str, node: Tag, writer: _TextWriter) -> None:
    if name == "a":
        writer.text(_link_suffix(node))
    elif name == "li":
        writer.end_block()
    elif name in _LIST_TAGS:
        writer.end_list()
    elif name == "pre":
        writer.preformatted -= 1
        writer.end_block()
    elif name in _BLOCK_TAGS:
        writer.end_block()


def _list_start(node: Tag) -> int:
    try:
        return int(str(node.get("start", "1")))
    except ValueError:
        return 1


def _link_suffix(anchor: Tag) -> str:
    """What follows a link's text: its URL in parentheses when the text does not say it."""
    href = str(anchor.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:")):
        return ""
    text = _WHITESPACE.sub(" ", anchor.get_text()).strip()
    if not text:
        return href
    if _bare_url(text) == _bare_url(href):
        return ""
    return f" ({href})"


def _bare_url(value: str) -> str:
    return _URL_PREFIXES.sub("", value.strip()).rstrip("/").lower()


class _TextWriter:
    """Accumulates lines: text is collapsed, blocks end lines, list items get prefixes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.preformatted = 0
        self.lists: list[list[int | bool]] = []  # [ordered, next number] per open list
        self.item_prefix: str | None = None

    def text(self, value: str) -> None:
        if not value:
            return
        if self.preformatted:
            first, *rest = value.replace("\r\n", "\n").split("\n")
            self._append(first)
            for line in rest:
                self.line_break()
                self._append(line)
            return
        value = _WHITESPACE.sub(" ", value)
        if not self.parts or self.parts[-1].endswith(" "):
            value = value.lstrip(" ")
        self._append(value)

    def _append(self, value: str) -> None:
        if not value:
            return
        if not self.parts:
            self.parts.append(self._line_prefix())
        self.parts.append(value)

    def _line_prefix(self) -> str:
        if self.item_prefix is not None:
            prefix, self.item_prefix = self.item_prefix, None
            return prefix
        return _INDENT * len(self.lists)

    def separator(self, value: str) -> None:
        if self.parts:
            self.parts.append(value)

    def end_block(self) -> None:
        """End the current line if it holds anything (blocks never add blank lines)."""
        if self.parts:
            self._flush()

    def line_break(self) -> None:
        """``<br>``: always ends a line, so two in a row leave a blank line."""
        self._flush()

    def _flush(self) -> None:
        self.lines.append("".join(self.parts).rstrip())
        self.parts = []

    def start_list(self, *, ordered: bool, start: int) -> None:
        self.end_block()
        self.lists.append([ordered, start])

    def end_list(self) -> None:
        self.end_block()
        if self.lists:
            self.lists.pop()
        self.item_prefix = None

    def start_item(self) -> None:
        self.end_block()
        depth = max(len(self.lists), 1)
        marker = "- "
        if self.lists and self.lists[-1][0]:
            number = int(self.lists[-1][1])
            self.lists[-1][1] = number + 1
            marker = f"{number}. "
        self.item_prefix = _INDENT * (depth - 1) + marker

    def result(self) -> str:
        self.end_block()
        return _tidy(self.lines)


def _tidy(lines: list[str]) -> str:
    """Trailing spaces off, at most one blank line in a row, no blank edges."""
    text = "\n".join(line.replace("\u00a0", " ").rstrip() for line in lines)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n").strip()
