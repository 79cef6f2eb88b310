"""The rows of the tableau des mesures (fragments/mesures/_table.html), as HTML built in Python:
the full CAE table has ~1,500 rows, and Jinja's per-row lookups, filters and escapes cost several
times the rest of the page. Registered as the Jinja global `mesures_rows`.

Each row: the node (a link to its page), its statut (with, for editors, the button that loads the
statut control in place: fragments/statuts/_action_statut.html, the id it replaces), its score
slot (app/score_slot.py, refreshed by the push), précision, preuves count and last change.
"""
from collections.abc import Mapping

from markupsafe import Markup, escape

from app.filters import dom_id
from app.score_slot import score_slot


def mesures_rows(rows, scores: Mapping, can_edit: bool, action_url: str, control_url: str,
                 statut_labels: Mapping[str, str], kind_labels: Mapping[str, str]) -> Markup:
    """rows: dashboards.MesureRow; action_url, control_url: URLs with the placeholder ACTION_ID."""
    action_url, control_url = str(escape(action_url)), str(escape(control_url))
    kinds = {kind: escape(label) for kind, label in kind_labels.items()}
    statuts = {statut: escape(label) for statut, label in statut_labels.items()}
    parts = []
    for row in rows:
        node, suivi = row.node, row.suivi
        dom = dom_id(node.id)
        statut = ""
        if row.statut:
            button = (
                f' <button type="button" class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline" id="statut-modifier-{dom}"'
                f' hx-get="{control_url.replace("ACTION_ID", node.id)}" hx-target="#statuts-action_statut-{dom}"'
                f' hx-swap="outerHTML">Modifier<span class="fr-sr-only"> le statut de {escape(node.identifiant)}</span>'
                '</button>'
            ) if can_edit else ""
            statut = f'<span id="statuts-action_statut-{dom}" class="tet-statut">{statuts[row.statut]}{button}</span>'
        modified_on = suivi.modified_on.strftime("%d/%m/%Y") if suivi.modified_on else "—"
        parts.append(
            f'<tr class="tet-mesure tet-mesure--{row.kind}{"" if row.matches else " tet-mesure--path"}" id="mesures-row-{dom}">\n'
            f'  <th scope="row"><span class="fr-text--xs">{kinds[row.kind]}</span>\n'
            f'    <a href="{action_url.replace("ACTION_ID", node.id)}">{escape(node.identifiant)} {escape(node.nom)}</a></th>\n'
            f'  <td>{statut}</td>\n'
            f'  <td>{score_slot(node.id, scores[node.id] if node.id in scores else None)}</td>\n'
            f'  <td>{"Oui" if suivi.precision else "Non"}</td>\n'
            f'  <td class="tet-number">{suivi.preuves}</td>\n'
            f'  <td>{modified_on}</td>\n'
            '</tr>\n'
        )
    return Markup("".join(parts))
