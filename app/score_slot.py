"""The score slot of one action (its id `score-<dom id>`, swapped by the pushes), as HTML built in
Python: every pushed node and every row of the tableau des mesures (~1,500 for the CAE) renders
one, where a Jinja macro per slot cost more than the rest of the page. Registered as the Jinja
global `score_slot` (fragments/scores/_action_score.html, fragments/mesures/_table.html).

score: a mapping with point_fait, point_programme, point_potentiel (numbers) and optionally
point_referentiel, desactive, concerne (the potentiel's difference from the référentiel points
is then said in words); None shows a dash. The bar is SVG geometry, not inline width styles
(the Content-Security-Policy refuses those); it is empty when the potentiel is 0.
"""
from collections.abc import Mapping
from functools import lru_cache

from markupsafe import Markup, escape

from app.filters import dom_id, format_percent, format_points, potentiel_note


_OOB = ' hx-swap-oob="true"'


# The fields of a score record a slot shows, in the order of score_slot_of's arguments.
SLOT_FIELDS = ("point_fait", "point_programme", "point_potentiel", "point_referentiel", "desactive", "concerne")


def score_slot(action_id: str, score: Mapping | None, oob: bool = False) -> Markup:
    if not score:
        return Markup(f'<span id="score-{dom_id(action_id)}" class="tet-score"{_OOB if oob else ""}>'
                      '<span class="tet-score__none" aria-label="score non calculé">–</span></span>')
    return score_slot_of(action_id, *(score.get(name) for name in SLOT_FIELDS), oob)


# A page shows the same slots again until the scores change (~1,500 per view of the CAE's tableau
# des mesures): a few référentiels' worth of slots are kept. The key is the values shown, so a
# changed score is a new entry, never a stale one.
@lru_cache(maxsize=8_192)
def score_slot_of(action_id: str, fait: float, programme: float, potentiel: float, referentiel: float | None = None,
                  desactive: bool | None = None, concerne: bool | None = None, oob: bool = False) -> Markup:
    """The slot of a score given as the values of SLOT_FIELDS (positional: they are the cache's key)."""
    opening = f'<span id="score-{dom_id(action_id)}" class="tet-score"{_OOB if oob else ""}>'
    realise_text, programme_text = format_percent(fait, potentiel), format_percent(programme, potentiel)
    note = potentiel_note({"point_referentiel": referentiel, "point_potentiel": potentiel, "desactive": desactive,
                           "concerne": True if concerne is None else concerne})
    note_html = f' <span class="tet-score__potentiel">({escape(note)})</span>' if note else ""
    return Markup(
        f'{opening}\n  <span class="tet-score__figures">\n'
        f'    <span title="réalisé">{realise_text}</span>\n'
        f'    · <span class="tet-score__programme" title="programmé">{programme_text} prog.</span>\n'
        f'    · {format_points(fait)}/{format_points(potentiel)} pts{note_html}\n  </span>\n'
        f'  {score_bar(fait, programme, potentiel, realise_text, programme_text)}</span>'
    )


def score_bar(fait: float, programme: float, potentiel: float, realise_text: str, programme_text: str) -> str:
    """Réalisé and programmé shares of the potentiel, as two stacked segments."""
    ratio = 100 / potentiel if potentiel else 0
    fait_width = f"{fait * ratio:.1f}"
    return (
        f'<svg class="tet-score-bar" role="img" aria-label="Avancement : {realise_text} réalisé, {programme_text} programmé"'
        f' viewBox="0 0 100 1" preserveAspectRatio="none" focusable="false">'
        f'<rect class="tet-score-bar__fait" width="{fait_width}" height="1"/>'
        f'<rect class="tet-score-bar__programme" x="{fait_width}" width="{programme * ratio:.1f}" height="1"/></svg>'
    )
