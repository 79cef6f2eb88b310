"""Markdown -> sanitised HTML, for content sections, the /preview page and précisions.

One factory builds the marko parser: plain CommonMark, because the GFM extension costs a
quarter more time on the référentiels, which must load in under two seconds. nh3 then keeps
only harmless tags and attributes, so raw HTML written in the markdown (the ADEME content uses
`<a href>` links) is allowed but cannot inject scripts.

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


@lru_cache(maxsize=1)
def markdown_parser() -> marko.Markdown:
    return marko.Markdown()


def check_markdown(text: str) -> str | None:
    """Why `text` would not be rendered as markdown (French message), or None when it would."""
    if len(text) > MARKDOWN_MAX_LENGTH:
        return f"Le texte dépasse {MARKDOWN_MAX_LENGTH:,} caractères.".replace(",", "\u202f")
    if any(_nesting(line) > MAX_NESTING for line in text.splitlines()):
        return f"Le texte imbrique trop de citations ou de listes ({MAX_NESTING} niveaux au plus)."
    return None


def render_markdown(text: str) -> str:
    """Sanitised HTML of `text`; empty string for blank text. Never raises on any text."""
    if not text.strip():
        return ""
    if check_markdown(text):
        return _plain(text)
    try:
        html = markdown_parser().convert(_neutralise_delimiters(text))
    except RecursionError:
        return _plain(text)
    return nh3.clean(html, attributes=_ALLOWED_ATTRIBUTES)


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
