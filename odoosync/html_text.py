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

The parser is selectolax's Lexbor, a C HTML5 parser. It builds the tree a browser would,
so where the old tokenizer and a browser differed the text now follows the browser
(``<!-->``, an unclosed comment, ``<script/>``, cells outside a table, nested links, the
newline that opens a ``<pre>``; NUL characters and lone surrogates are dropped), and the
tree is walked without recursion: deeply nested or unclosed markup cannot exhaust the
stack. It replaced the standard library's ``html.parser``, a tokenizer written in Python
(issue 18): the text is the same for every generated chatter body and for other
well-formed markup but for those cases, and a seed-scale set of bodies converts with
1.5× less CPU (``bench/html_text.py``; the text rules, in Python, are now most of the
cost). lxml was measured too: its event (target) parser is slower than the standard
library's, and its tree, about as fast as Lexbor's, stops at 2,048 levels of nesting and
silently drops the text below.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["html_to_text"]

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "details", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "legend", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_DROPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"})
_LIST_TAGS = frozenset({"ul", "ol"})
_CELL_TAGS = frozenset({"td", "th"})
_RENDERED_TAGS = _BLOCK_TAGS | _LIST_TAGS | _CELL_TAGS | {"a", "br", "li", "pre"}  # the others: only their text
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
    root = LexborHTMLParser(html).root
    renderer = _Renderer()
    if root is not None:
        renderer.walk(root)
    return renderer.writer.result()


class _Renderer:
    """Turns the tree's elements, as they open and close, into :class:`_TextWriter` calls."""

    def __init__(self) -> None:
        self.writer = _TextWriter()
        self.links: list[tuple[str, tuple[int, int]]] = []  # (href, where its text starts) per open <a>

    def walk(self, root: LexborNode) -> None:
        """Depth first, without recursion: a deeply nested body cannot exhaust the stack."""
        writer = self.writer
        parents: list[tuple[LexborNode, str]] = []  # the open elements above ``node``
        node = root.child
        while node is not None:
            tag = node.tag or ""
            if tag == "-text":
                writer.text(node.text_content or "")
            elif tag[:1] != "-" and tag not in _DROPPED_TAGS:  # not a comment or doctype, nor hidden
                if tag in _RENDERED_TAGS:
                    self.start(tag, node)
                child = node.child
                if child is not None:
                    parents.append((node, tag))
                    node = child
                    continue
                if tag in _RENDERED_TAGS:
                    self.end(tag)
            node = node.next
            while node is None and parents:  # the last child: its parents close up to one with a next
                parent, parent_tag = parents.pop()
                if parent_tag in _RENDERED_TAGS:
                    self.end(parent_tag)
                node = parent.next

    def start(self, tag: str, node: LexborNode) -> None:
        writer = self.writer
        if tag == "br":
            writer.line_break()
        elif tag == "a":
            self.links.append((node.attributes.get("href") or "", writer.mark()))
        elif tag == "li":
            writer.start_item()
        elif tag in _LIST_TAGS:
            writer.start_list(ordered=tag == "ol", start=_list_start(node.attributes.get("start") or ""))
        elif tag in _CELL_TAGS:
            writer.separator(_CELL_SEPARATOR)
        elif tag == "pre":
            writer.end_block()
            writer.preformatted += 1
        elif tag in _BLOCK_TAGS:
            writer.end_block()

    def end(self, tag: str) -> None:
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


def _list_start(value: str) -> int:
    try:
        return int(value) if value else 1
    except ValueError:
        return 1


def _link_suffix(href: str, text: str) -> str:
    """What follows a link's text: its URL in parentheses when the text does not say it."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:")):
        return ""
    text = text.strip()
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

    def mark(self) -> tuple[int, int]:
        """Where the text written from now on starts (for a link's text)."""
        return len(self.lines), len(self.parts)

    def since(self, mark: tuple[int, int]) -> str:
        """The text written since ``mark``, whitespace collapsed."""
        lines, parts = mark
        if len(self.lines) > lines:
            written = [*self.lines[lines:], "".join(self.parts[1:])]
        else:
            written = ["".join(self.parts[max(parts, 1) :])]  # parts[0]: the line's prefix
        return _WHITESPACE.sub(" ", " ".join(written))

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
