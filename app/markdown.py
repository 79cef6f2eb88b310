"""Markdown -> sanitised HTML, for content sections, the /preview page and précisions.

One factory builds the marko parser: plain CommonMark, because the GFM extension costs a
quarter more time on the référentiels, which must load in under two seconds. nh3 then keeps
only harmless tags and attributes, so raw HTML written in the markdown (the ADEME content uses
`<a href>` links) is allowed but cannot inject scripts.
"""
from functools import lru_cache

import marko
import nh3

_ALLOWED_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "a": {"href", "title", "hreflang"}}


@lru_cache(maxsize=1)
def markdown_parser() -> marko.Markdown:
    return marko.Markdown()


def render_markdown(text: str) -> str:
    """Sanitised HTML of `text`; empty string for blank text."""
    if not text.strip():
        return ""
    return nh3.clean(markdown_parser().convert(text), attributes=_ALLOWED_ATTRIBUTES)
