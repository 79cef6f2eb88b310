"""The rows of the pilotage tables, as HTML built in Python: the tableau des mesures
(fragments/mesures/_table.html) has ~1,500 rows for the CAE, the aide à la priorisation
(fragments/priorisation/_results.html) ~300, and Jinja's per-row lookups, filters and escapes cost
several times the rest of the page. Registered as Jinja globals. URLs come built once with the
placeholder ACTION_ID (url_for per row costs more than the rest of the row).
"""
from collections.abc import Mapping
from functools import lru_cache

from markupsafe import Markup, escape

from app.filters import dom_id, format_percent, format_points
from app.score_slot import SLOT_FIELDS, score_slot, score_slot_of


# A few référentiels' nodes. Keyed on the texts shown (a content load may rename a node), which
# hash faster than the Node dataclass.
@lru_cache(maxsize=16_384)
def _node_parts(action_id: str, identifiant: str, nom: str) -> tuple[str, str, str]:
    """What a row shows of a node: its DOM id, escaped identifiant and label."""
    identifiant = str(escape(identifiant))
    return dom_id(action_id), identifiant, f"{identifiant} {escape(nom)}"


def mesures_rows_html(rows, scores, can_edit: bool, action_url: str, control_url: str,
                      statut_labels: Mapping[str, str], kind_labels: Mapping[str, str]) -> Markup:
    """rows: dashboards.MesureRow; scores: services.scores.StoredScores. Each row: the node, its
    statut (with, for editors, the button that loads the statut control in place:
    fragments/statuts/_action_statut.html, the id it replaces), its score slot (app/score_slot.py,
    refreshed by the push), précision, preuves count and last change."""
    action_url, control_url = str(escape(action_url)), str(escape(control_url))
    kinds = {kind: escape(label) for kind, label in kind_labels.items()}
    statuts = {statut: escape(label) for statut, label in statut_labels.items()}
    slot_values = scores.columns(SLOT_FIELDS)
    parts = []
    for row in rows:
        node, suivi = row.node, row.suivi
        dom, identifiant, label = _node_parts(node.id, node.identifiant, node.nom)
        statut = ""
        if row.statut:
            button = (
                f' <button type="button" class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline" id="statut-modifier-{dom}"'
                f' hx-get="{control_url.replace("ACTION_ID", node.id)}" hx-target="#statuts-action_statut-{dom}"'
                f' hx-swap="outerHTML">Modifier<span class="fr-sr-only"> le statut de {identifiant}</span>'
                '</button>'
            ) if can_edit else ""
            statut = f'<span id="statuts-action_statut-{dom}" class="tet-statut">{statuts[row.statut]}{button}</span>'
        values = slot_values.get(node.id)
        modified_on = suivi.modified_on.strftime("%d/%m/%Y") if suivi.modified_on else "—"
        parts.append(
            f'<tr class="tet-mesure tet-mesure--{row.kind}{"" if row.matches else " tet-mesure--path"}" id="mesures-row-{dom}">\n'
            f'  <th scope="row"><span class="fr-text--xs">{kinds[row.kind]}</span>\n'
            f'    <a href="{action_url.replace("ACTION_ID", node.id)}">{label}</a></th>\n'
            f'  <td>{statut}</td>\n'
            f'  <td>{score_slot_of(node.id, *values) if values else score_slot(node.id, None)}</td>\n'
            f'  <td>{"Oui" if suivi.precision else "Non"}</td>\n'
            f'  <td class="tet-number">{suivi.preuves}</td>\n'
            f'  <td>{modified_on}</td>\n'
            '</tr>\n'
        )
    return Markup("".join(parts))


def priorisation_rows_html(rows, action_url: str, phase_labels: Mapping[str, str],
                           thematique_names: Mapping[str, str]) -> Markup:
    """rows: dashboards.PriorisationRow. Each row: the node, its axe, phase, thématique, points
    restants, % réalisé and programmé, potentiel."""
    action_url = str(escape(action_url))
    phases = {key: escape(label) for key, label in phase_labels.items()}
    thematiques = {key: escape(name) for key, name in thematique_names.items()}
    parts = []
    for row in rows:
        node, score = row.node, row.score
        dom, _identifiant, label = _node_parts(node.id, node.identifiant, node.nom)
        phase = phases[row.phase] if row.phase else "—"
        thematique = (thematiques.get(row.thematique) or escape(row.thematique)) if row.thematique else "—"
        parts.append(
            f'<tr id="priorisation-row-{dom}">\n'
            f'  <td><a href="{action_url.replace("ACTION_ID", node.id)}">{label}</a></td>\n'
            f'  <td>{escape(row.axe.identifiant) if row.axe else ""}</td>\n'
            f'  <td>{phase}</td>\n'
            f'  <td>{thematique}</td>\n'
            f'  <td class="tet-number">{format_points(row.restants)}</td>\n'
            f'  <td class="tet-number">{format_percent(score.fait, score.potentiel)}</td>\n'
            f'  <td class="tet-number">{format_percent(score.programme, score.potentiel)}</td>\n'
            f'  <td class="tet-number">{format_points(score.potentiel)}</td>\n'
            '</tr>\n'
        )
    return Markup("".join(parts))
