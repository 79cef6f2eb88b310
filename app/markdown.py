"""Markdown -> sanitised HTML, for content sections, the /preview page and précisions.

The référentiels are plain CommonMark, because the GFM extension costs a quarter more time on
them and they must load in under two seconds; précisions (short texts typed by agents) get GFM,
for its tables. nh3 then keeps only harmless tags and attributes, so raw HTML written in the
markdown (the ADEME content uses `<a href>` links) is allowed but cannot inject scripts; images
without a text alternative or not served over http(s) are dropped, and headings are moved below
the heading of the page section that shows the text.

marko recurses once per nesting level and scans brackets quadratically, so any text is made
safe first: too long or too deeply nested text is shown as escaped plain text (`check_markdown`
gives the message to show where users type it), and the brackets or emphasis marks of a
paragraph holding too many are written as entities, which marko treats as plain characters.
"""
import re
from functools import lru_cache
from html import escape

import marko
import nh3

MARKDOWN_MAX_LENGTH = 50_000
MAX_NESTING = 20  # block quotes and list levels on one line (real content uses 2)
# Per paragraph, beyond which these characters are written as entities (real content: 3 and 38).
MAX_BRACKETS = 50
MAX_EMPHASIS_RUNS = 500

_ALLOWED_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "a": {"href", "title", "hreflang"}}
_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t>]|$))*")
_CONTAINER_MARKER = re.compile(r">|[-+*]|\d{1,9}[.)]")
_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n)")
_EMPHASIS_RUN = re.compile(r"\*+|_+")
_BRACKET_ENTITIES = str.maketrans({"[": "&#91;", "]": "&#93;"})
_EMPHASIS_ENTITIES = str.maketrans({"*": "&#42;", "_": "&#95;"})
# nh3's output quotes every attribute value with ", so a tag ends at the first > outside quotes.
_IMG_TAG = re.compile(r'<img(?:\s+[^\s="]+="[^"]*")*\s*/?>')
_ATTRIBUTE = re.compile(r'([^\s="]+)="([^"]*)"')
_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")


@lru_cache(maxsize=2)
def markdown_parser(gfm: bool = False) -> marko.Markdown:
    return marko.Markdown(extensions=["gfm"]) if gfm else marko.Markdown()


def check_markdown(text: str) -> str | None:
    """Why `text` would not be rendered as markdown (French message), or None when it would."""
    if len(text) > MARKDOWN_MAX_LENGTH:
        return f"Le texte dépasse {MARKDOWN_MAX_LENGTH:,} caractères.".replace(",", "\u202f")
    if any(_nesting(line) > MAX_NESTING for line in text.splitlines()):
        return f"Le texte imbrique trop de citations ou de listes ({MAX_NESTING} niveaux au plus)."
    return None


def render_markdown(text: str, top_heading: int = 1, gfm: bool = False) -> str:
    """Sanitised HTML of `text`; empty string for blank text. Never raises on any text.

    top_heading: the level a `#` heading gets (one below the heading of the section showing the
    text); deeper headings follow, down to h6. gfm: GitHub-style tables, strikethrough, autolinks.
    """
    if not text.strip():
        return ""
    if check_markdown(text):
        return _plain(text)
    try:
        html = markdown_parser(gfm).convert(_neutralise_delimiters(text))
    except RecursionError:
        return _plain(text)
    html = _IMG_TAG.sub(_keep_described_image, nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES))
    if top_heading > 1:
        html = _HEADING_TAG.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + top_heading - 1)}", html)
    return html


def _keep_described_image(match: re.Match) -> str:
    """An image stays only with a text alternative (without one a screen reader reads its file
    name) and an http(s) src (javascript:, data: and relative sources are refused)."""
    attributes = dict(_ATTRIBUTE.findall(match[0]))
    described = attributes.get("alt", "").strip()
    remote = attributes.get("src", "").lower().startswith(("http://", "https://"))
    return match[0] if described and remote else ""


def _nesting(line: str) -> int:
    """Upper estimate of the containers a line opens: its quote/list markers, plus its
    indentation (each nested list level needs at least two columns, counted loosely as four)."""
    prefix = _CONTAINER_PREFIX.match(line).group(0)
    columns = line.expandtabs(4)
    indent = len(columns) - len(columns.lstrip(" "))
    return len(_CONTAINER_MARKER.findall(prefix)) + indent // 4


def _neutralise_delimiters(text: str) -> str:
    """Paragraphs holding more brackets or emphasis runs than any real text get them as entities."""
    parts = _PARAGRAPH_BREAK.split(text)
    for index, part in enumerate(parts):
        if part.count("]") > MAX_BRACKETS:
            part = part.translate(_BRACKET_ENTITIES)
        if len(_EMPHASIS_RUN.findall(part)) > MAX_EMPHASIS_RUNS:
            part = part.translate(_EMPHASIS_ENTITIES)
        parts[index] = part
    return "".join(parts)


def _plain(text: str) -> str:
    return f"<p>{escape(text)}</p>"
