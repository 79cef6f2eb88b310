"""Personnalisation answers as agents type and read them.

A proportion is stored as the formula language reads it, a number in [0, 1] (personnalisation.md
§1.2); agents type and read it as a percentage from 0 to 100, with a French decimal comma. Every
conversion between the two goes through this module.
"""
import re

from app.models import Question
from app.services.suivi import InvalidEdit

PERCENT_ERROR = "la part doit être un pourcentage entre 0 et 100 (par exemple 40 ou 12,5)"
# Digits with an optional decimal part (comma or point); a trailing "%" and spaces are tolerated.
_PERCENT = re.compile(r"(\d+(?:[.,]\d*)?|[.,]\d+)")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
BINAIRE_LABELS = {"OUI": "Oui", "NON": "Non"}


def proportion_from_percent(text: str | None) -> str:
    """The stored proportion ("0.125") of a typed percentage ("12,5", "12.5 %"); "" for an
    empty field (the answer is cleared). InvalidEdit (French) for anything else or outside 0-100."""
    typed = _SPACES.sub("", text or "").removesuffix("%")
    if not typed:
        return ""
    if not _PERCENT.fullmatch(typed):
        raise InvalidEdit(PERCENT_ERROR)
    percent = float(typed.replace(",", "."))
    if percent > 100:
        raise InvalidEdit(PERCENT_ERROR)
    return repr(round(percent / 100, 12))  # 33.3 % -> 0.333, not 0.33299999999999996


def percent_text(proportion: str | float | None) -> str:
    """A stored proportion as the agent typed it: 0.125 -> "12,5" ("" when unanswered)."""
    if proportion is None or proportion == "":
        return ""
    try:
        percent = 100 * float(proportion)
    except ValueError:
        return str(proportion)  # not a number (stored before validation): shown as it is
    return f"{percent:g}".replace(".", ",")


def reponse_label(question: Question, value: str | None) -> str | None:
    """An answer in words: "Oui", a choix's formulation, "12,5 %"; None when unanswered."""
    if value is None:
        return None
    if question.type == "proportion":
        return f"{percent_text(value)}\u00a0%"
    if question.type == "binaire":
        return BINAIRE_LABELS.get(value, value)
    return next((choix.formulation for choix in question.choix if choix.id == value), value)
