"""Jinja filters: formatting stays out of templates."""
import math
import re
from functools import lru_cache

from flask import Flask

_NOT_DOM_SAFE = re.compile(r"[^A-Za-z0-9-]")
_REGLE_KINDS = {"desactivation": "Désactivation", "reduction": "Réduction de potentiel", "score": "Score"}
_QUESTION_TYPES = {"binaire": "Oui / non", "choix": "Choix", "proportion": "Pourcentage"}


def format_points(value: float | None) -> str:
    """French decimal display of points: 12.5 -> '12,5', 3.0 -> '3'."""
    if value is None:
        return "–"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def points_text(value: float | None) -> str:
    """Points in words, French plural (from 2): '1,5 point', '12 points'."""
    return f"{format_points(value)} {'point' if value is not None and abs(value) < 2 else 'points'}"


def potentiel_note(score: dict) -> str:
    """Why a score record's potentiel differs from its référentiel points, from the record alone
    (pushed score slots have nothing else); '' when they are equal."""
    referentiel, potentiel = score.get("point_referentiel"), score.get("point_potentiel")
    if referentiel is None or potentiel is None or math.isclose(referentiel, potentiel, abs_tol=5e-4):
        return ""
    if score.get("desactive"):
        state = "désactivé"
    elif not score.get("concerne", True):
        state = "non concerné"
    else:
        state = "potentiel réduit" if potentiel < referentiel else "potentiel augmenté"
    return f"{state}, {points_text(referentiel)} au référentiel"


def format_percent(part: float | None, whole: float | None) -> str:
    """Share of `whole` as a French percentage ('42 %'); a dash when it can't be computed."""
    if part is None or not whole:
        return "–"
    return f"{round(100 * part / whole)} %"


@lru_cache(maxsize=16_384)  # the référentiels' action ids; a page of the CAE asks for ~1,500 of them
def dom_id(action_id: str) -> str:
    """An action id usable in a DOM id and a CSS selector: 'cae_1.2.3' -> 'cae-1-2-3'."""
    return _NOT_DOM_SAFE.sub("-", action_id)


def regle_kind(kind: str) -> str:
    """French label of a personnalisation rule kind."""
    return _REGLE_KINDS.get(kind, kind)


def question_type(kind: str) -> str:
    """French label of a personnalisation question type."""
    return _QUESTION_TYPES.get(kind, kind)


def register_filters(app: Flask) -> None:
    for function in (format_points, points_text, potentiel_note, format_percent, dom_id, regle_kind, question_type):
        app.add_template_filter(function)
