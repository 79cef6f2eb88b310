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

from markupsafe import Markup, escape

from app.filters import dom_id, format_percent, format_points, potentiel_note


_OOB = ' hx-swap-oob="true"'


def score_slot(action_id: str, score: Mapping | None, oob: bool = False) -> Markup:
    opening = f'<span id="score-{dom_id(action_id)}" class="tet-score"{_OOB if oob else ""}>'
    if not score:
        return Markup(f'{opening}<span class="tet-score__none" aria-label="score non calculé">–</span></span>')
    fait, programme, potentiel = score["point_fait"], score["point_programme"], score["point_potentiel"]
    realise_text, programme_text = format_percent(fait, potentiel), format_percent(programme, potentiel)
    note = potentiel_note(score)
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
