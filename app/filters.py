"""Jinja filters: formatting stays out of templates."""
import re

from flask import Flask

_NOT_DOM_SAFE = re.compile(r"[^A-Za-z0-9-]")
_REGLE_KINDS = {"desactivation": "Désactivation", "reduction": "Réduction de potentiel", "score": "Score"}


def format_points(value: float | None) -> str:
    """French decimal display of points: 12.5 -> '12,5', 3.0 -> '3'."""
    if value is None:
        return "–"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_percent(part: float | None, whole: float | None) -> str:
    """Share of `whole` as a French percentage ('42 %'); a dash when it can't be computed."""
    if part is None or not whole:
        return "–"
    return f"{round(100 * part / whole)} %"


def dom_id(action_id: str) -> str:
    """An action id usable in a DOM id and a CSS selector: 'cae_1.2.3' -> 'cae-1-2-3'."""
    return _NOT_DOM_SAFE.sub("-", action_id)


def regle_kind(kind: str) -> str:
    """French label of a personnalisation rule kind."""
    return _REGLE_KINDS.get(kind, kind)


def register_filters(app: Flask) -> None:
    for function in (format_points, format_percent, dom_id, regle_kind):
        app.add_template_filter(function)
