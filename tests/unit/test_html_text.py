"""HTML → readable text: the edge cases chatter bodies and activity notes bring."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoosync.html_text import html_to_text


@pytest.mark.parametrize("body", [None, "", "<p></p>", "<p><br></p>", "<div> \n </div>", "<!-- x -->"])
def test_empty_bodies_are_the_empty_string(body):
    assert html_to_text(body) == ""


def test_entities_are_decoded():
    html = "<p>Tom &amp; Jerry &lt;3 &quot;quotes&quot; caf&eacute; &#8364;5&nbsp;net</p>"
    assert html_to_text(html) == 'Tom & Jerry <3 "quotes" café €5 net'


def test_paragraphs_are_on_their_own_lines_without_blank_lines_between():
    html = "<p>First paragraph.</p>\n<p>Second   paragraph\n continues.</p><h2>Title</h2><div>Div</div>"
    assert html_to_text(html) == "First paragraph.\nSecond paragraph continues.\nTitle\nDiv"


def test_br_is_a_line_break_and_two_leave_a_blank_line():
    assert html_to_text("a<br>b<br/><br />c") == "a\nb\n\nc"


def test_many_breaks_leave_at_most_one_blank_line():
    assert html_to_text("a" + "<br>" * 6 + "b") == "a\n\nb"


def test_nested_lists_are_bulleted_numbered_and_indented():
    html = (
        "<p>Plan:</p><ul><li>One</li><li>Two<ul><li>Two a</li><li>Two b"
        "<ol><li>first</li><li>second</li></ol></li></ul></li><li>Three</li></ul><p>End</p>"
    )
    assert html_to_text(html) == (
        "Plan:\n- One\n- Two\n  - Two a\n  - Two b\n    1. first\n    2. second\n- Three\nEnd"
    )


def test_ordered_list_honours_start():
    assert html_to_text('<ol start="3"><li>c</li><li>d</li></ol>') == "3. c\n4. d"


def test_scripts_styles_and_comments_are_dropped():
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<script>alert('x')</script><p>Visible<!-- hidden --></p>"
        "<noscript>no</noscript></body></html>"
    )
    assert html_to_text(html) == "Visible"


def test_links_keep_their_text_and_a_url_that_says_more():
    html = (
        '<p><a href="https://shop.example/q/7">the quote</a>, '
        '<a href="mailto:ann@example.com">ann@example.com</a>, '
        '<a href="https://example.com/">example.com</a>, '
        '<a href="#top">top</a>, <a href="https://bare.example/x"></a></p>'
    )
    assert html_to_text(html) == (
        "the quote (https://shop.example/q/7), ann@example.com, example.com, top, https://bare.example/x"
    )


def test_links_in_list_items_and_with_inline_markup():
    html = (
        '<ul><li><a href="https://x.example/doc">https://x.example/doc</a></li>'
        '<li>See <a href="https://x.example/q"><b>the</b> quote</a> now</li></ul>'
    )
    assert html_to_text(html) == "- https://x.example/doc\n- See the quote (https://x.example/q) now"


def test_an_unclosed_head_ends_where_the_body_starts():
    assert html_to_text("<html><head><meta charset=utf-8><body><p>Shown</p>") == "Shown"


def test_inline_markup_does_not_break_lines():
    assert html_to_text("<p>A <b>bold</b> and <i>italic</i> <span>word</span>.</p>") == ("A bold and italic word.")


def test_tables_become_rows_of_cells():
    html = "<table><tr><th>Product</th><th>Qty</th></tr><tr><td>Desk</td><td>2</td></tr></table>"
    assert html_to_text(html) == "Product | Qty\nDesk | 2"


def test_preformatted_text_keeps_its_lines():
    assert html_to_text("<pre>line 1\n   indented</pre><p>after</p>") == "line 1\n   indented\nafter"


def test_text_without_markup_is_returned_trimmed():
    assert html_to_text("  Just a plain note.\r\nSecond line  ") == "Just a plain note.\nSecond line"


def test_unclosed_and_deeply_nested_markup_is_handled():
    assert html_to_text("<div>" * 3000 + "deep" + "</div>" * 10) == "deep"
    assert html_to_text("<p>open <b>bold <i>both") == "open bold both"


def test_a_megabyte_body_is_rendered_completely():
    paragraphs = [f"<p>Line {i} &amp; <b>more</b></p><ul><li>item {i}</li></ul>" for i in range(20000)]
    html = "<div>" + "".join(paragraphs) + "</div>"
    assert len(html) > 1_000_000
    lines = html_to_text(html).split("\n")
    assert len(lines) == 40000
    assert lines[0] == "Line 0 & more"
    assert lines[-1] == "- item 19999"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200))
def test_any_text_in_a_paragraph_comes_back_without_markup(text):
    from html import escape

    rendered = html_to_text(f"<p>{escape(text)}</p>")
    assert "<p>" not in rendered
    assert " ".join(rendered.split()) == " ".join(text.replace("\u200b", " ").split())


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a\x00b</p>", "ab"),  # NUL characters are dropped (PostgreSQL text cannot hold them either)
        ("<p>a\ud800b</p>", "ab"),  # so are lone surrogates (UTF-8 cannot hold them)
        ("<pre>a\rb</pre>", "a\nb"),  # a carriage return is a line break
        ("<p>a</p><pre>\nb</pre>", "a\nb"),  # the newline that opens a <pre> is not shown
        ("<!-->x", "x"),  # an empty comment
        ("<p>x<!-- never closed", "x"),  # an unclosed comment runs to the end
        ("<p>x</p", "x"),  # a tag cut off at the end
        ("<script/>hidden", ""),  # <script/> opens a script
        ("<head><p>in head</p>", "in head"),  # a <p> cannot be in <head>: the body starts
        ("<td>a</td><td>b</td>", "ab"),  # cells outside a table are not cells
        ('<a href="https://x.example/?a=1&copy1">q</a>', "q (https://x.example/?a=1&copy1)"),
    ],
)
def test_unusual_and_malformed_markup_reads_as_a_browser_shows_it(html, text):
    assert html_to_text(html) == text


@dataclass(frozen=True)
class _Part:
    """A piece of random markup and the words it should show and hide."""

    html: str
    shown: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()


def _element(start: str, children: list[_Part]) -> _Part:
    tag = start.split()[0]
    html = f"<{start}>{''.join(c.html for c in children)}</{tag}>"
    shown = tuple(w for c in children for w in c.shown)
    hidden = tuple(w for c in children for w in c.hidden)
    if tag in ("script", "style"):
        return _Part(html, (), shown + hidden)
    return _Part(html, shown, hidden)


_STARTS = (
    "p", "div", "span", "b", "i", "ul", "ol", "li", "blockquote", "h2", "pre", "table", "tr", "td", "a",
    'a href="https://x.example/l"', 'ol start="4"',
)  # fmt: skip
_TEXT = st.from_regex(r"[A-Za-z][a-z0-9]{0,7}", fullmatch=True).map(lambda word: _Part(f" {word} ", (word,)))
_TREES = st.recursive(
    _TEXT,
    lambda parts: st.one_of(
        st.builds(_element, st.sampled_from(_STARTS), st.lists(parts, max_size=4)),
        st.builds(_element, st.sampled_from(("script", "style")), st.lists(_TEXT, max_size=2)),
        st.sampled_from([_Part("<br>"), _Part("<!-- x -->"), _Part("&eacute;")]),
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TREES, min_size=1, max_size=5))
def test_random_markup_keeps_its_text_and_drops_tags_and_scripts(parts):
    html = "".join(part.html for part in parts)
    shown = {word for part in parts for word in part.shown}
    hidden = {word for part in parts for word in part.hidden} - shown
    text = html_to_text(html)
    assert "<" not in text
    assert ">" not in text
    words = set(text.split())
    assert shown <= words  # the text of every text node
    assert not hidden & words  # scripts and styles dropped
    assert html_to_text(text) == text  # plain text comes back as it is


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<&"), max_size=200))
def test_text_without_markup_comes_back_trimmed_line_by_line(text):
    rendered = html_to_text(text)
    assert html_to_text(rendered) == rendered
    assert rendered.split() == text.replace("\r\n", "\n").replace("\u00a0", " ").split()
