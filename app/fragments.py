"""The one registry of fragments, rendered by name: by the routes answering htmx, and by the jobs
and the websocket pushing them.

Each registered fragment is a template of app/templates/fragments, plus, for those pushed, a
context builder taking ids (and optionally data the caller already holds); the others are given
their view models. The page includes the same template on first load, so a swapped fragment
replaces its element exactly (same id, also out of band). A per-user fragment (the statut
control) is pushed as a placeholder that each page re-fetches.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, render_template

from app.live import collectivite_topic, current_hub
from app.services.evaluation import ScoreUpdate
from app.services.scores import scores_for, scores_newer_than, scores_rescored_since


@dataclass(frozen=True)
class Fragment:
    template: str
    context: Callable[..., dict] | None = None  # ids -> template variables; None: given as they are


def _action_score_context(collectivite_id: int, referentiel_id: str, action_id: str, score=None, oob=False) -> dict:
    if score is None:
        score = scores_for(collectivite_id, referentiel_id).get(action_id)
    return {"action_id": action_id, "score": score, "oob": oob}


def _statut_reload_context(collectivite_id: int, referentiel_id: str, action_id: str) -> dict:
    # A path (no request here to build a full URL from), as the page's websocket URL.
    url = current_app.url_map.bind("").build("statuts.statut_control", {
        "collectivite_id": collectivite_id, "referentiel_id": referentiel_id, "action_id": action_id})
    return {"reload_action_id": action_id, "reload_url": url}


FRAGMENTS = {
    "action_score": Fragment("fragments/scores/_action_score.html", _action_score_context),
    "statut_reload": Fragment("fragments/statuts/_action_statut.html", _statut_reload_context),
    "action_statut": Fragment("fragments/statuts/_action_statut.html"),
    "children": Fragment("fragments/referentiels/_children.html"),
    "search_results": Fragment("fragments/referentiels/_search_results.html"),
    "precision": Fragment("fragments/precisions/_precision.html"),
    "preuves": Fragment("fragments/preuves/_preuves.html"),
    "audits_mesure": Fragment("fragments/audits/_mesure_row.html"),
    "audits_labellisations": Fragment("fragments/audits/_labellisations.html"),
    "question": Fragment("fragments/personnalisation/_question.html"),
    "completion": Fragment("fragments/personnalisation/_completion.html"),
    "rights_changed": Fragment("fragments/live/_rights_changed.html"),
    "collectivites": Fragment("fragments/collectivites/_resultats.html"),
    "preview": Fragment("fragments/preview/_result.html"),
    "etats_des_lieux_form": Fragment("fragments/etats_des_lieux/_freeze_form.html"),
    "etats_des_lieux_snapshots": Fragment("fragments/etats_des_lieux/_snapshots.html"),
    "indicateur_valeurs": Fragment("fragments/indicateurs/_valeurs.html"),
    "priorisation_results": Fragment("fragments/priorisation/_results.html"),
    "mesures_table": Fragment("fragments/mesures/_table.html"),
    "partage_resultats": Fragment("fragments/partage/_resultats.html"),
    "plan_field": Fragment("fragments/plans/_field.html"),
    "labellisation_resultat": Fragment("fragments/labellisation/_resultat.html"),
    "tableau_de_bord_cards": Fragment("fragments/tableau_de_bord/_cards.html"),
    "tableau_de_bord_charts": Fragment("fragments/tableau_de_bord/_charts.html"),
    "tableau_de_bord_evolution": Fragment("fragments/tableau_de_bord/_evolution.html"),
    "plan_etapes": Fragment("fragments/plans/_etapes.html"),
}


def render_fragment(name: str, **context) -> str:
    fragment = FRAGMENTS[name]
    return render_template(fragment.template, **(fragment.context(**context) if fragment.context else context))


def score_update_html(update: ScoreUpdate) -> str:
    """Out-of-band score slots of every node whose record changed (the root, i.e. the totals,
    included whenever it changed), and a statut control to re-fetch for every node whose
    personnalisation (badges, editable or not) changed."""
    return _score_slots_html(update.collectivite_id, update.referentiel_id, update.changed) + "".join(
        render_fragment("statut_reload", collectivite_id=update.collectivite_id,
                        referentiel_id=update.referentiel_id, action_id=action_id)
        for action_id in sorted(update.personnalisation_changed)
    )


def scores_resync_html(collectivite_id: int, since: float) -> str:
    """Out-of-band score slots of every node of the référentiels re-scored since `since`
    (time.time()): for a page that may have missed their pushes. Empty when none was (a whole
    CAE référentiel is ~700 kB of HTML: sent only when needed)."""
    since_utc = datetime.fromtimestamp(since, UTC).replace(tzinfo=None)
    return "".join(
        _score_slots_html(collectivite_id, referentiel_id, scores)
        for referentiel_id, scores in scores_rescored_since(collectivite_id, since_utc).items()
    )


def scores_newer_html(collectivite_id: int, referentiel_id: str, revision: int) -> str:
    """Out-of-band score slots of every node of the référentiel when its stored scores reflect a
    later edit than `revision` (the page's): for a page whose pushes may be gone. Else empty."""
    scores = scores_newer_than(collectivite_id, referentiel_id, revision)
    return _score_slots_html(collectivite_id, referentiel_id, scores) if scores is not None else ""


def _score_slots_html(collectivite_id: int, referentiel_id: str, scores) -> str:
    """The score slots, then the marker on which the tableaux de bord re-fetch their charts."""
    return "".join(
        render_fragment(
            "action_score",
            collectivite_id=collectivite_id,
            referentiel_id=referentiel_id,
            action_id=action_id,
            score=score,
            oob=True,
        )
        for action_id, score in scores.items()
    ) + render_template("fragments/tableau_de_bord/_changed.html", referentiel_id=referentiel_id, oob=True)


def publish_score_update(update: ScoreUpdate) -> None:
    """Render once, push to every open page of the collectivité (in every web process)."""
    if update.changed:
        current_hub().publish(collectivite_topic(update.collectivite_id), score_update_html(update))


def publish_plans_changed(collectivite_id: int, origin: str) -> None:
    """Tell the collectivité's open plan pages that its plans changed: each re-fetches what it shows
    with its own session (rights, CSRF token), except the page `origin` names, whose own edit it is
    (static/js/plans.js)."""
    html = render_template("fragments/plans/_changed.html", origin=origin, oob=True)
    current_hub().publish(collectivite_topic(collectivite_id), html)
