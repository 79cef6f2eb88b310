"""Fragments rendered outside a page request: by name, from ids, for pushes over websocket.

Each registered fragment is a template of app/templates/fragments plus a context builder taking
ids (and optionally data the caller already holds). The page includes the same template on first
load, so a pushed fragment replaces its element exactly (same id, swapped out of band). A
per-user fragment (the statut control) is pushed as a placeholder that each page re-fetches.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, render_template

from app.live import collectivite_topic, current_hub
from app.services.evaluation import ScoreUpdate, scores_for, scores_newer_than, scores_rescored_since


@dataclass(frozen=True)
class Fragment:
    template: str
    context: Callable[..., dict]


def _action_score_context(collectivite_id: int, referentiel_id: str, action_id: str, score=None, oob=False) -> dict:
    if score is None:
        score = scores_for(collectivite_id, referentiel_id).get(action_id)
    return {"action_id": action_id, "score": score, "oob": oob}


def _statut_reload_context(collectivite_id: int, referentiel_id: str, action_id: str) -> dict:
    # A path (no request here to build a full URL from), as the page's websocket URL.
    url = current_app.url_map.bind("").build("live.statut_control", {
        "collectivite_id": collectivite_id, "referentiel_id": referentiel_id, "action_id": action_id})
    return {"reload_action_id": action_id, "reload_url": url}


FRAGMENTS = {
    "action_score": Fragment("fragments/scores/_action_score.html", _action_score_context),
    "statut_reload": Fragment("fragments/statuts/_action_statut.html", _statut_reload_context),
}


def render_fragment(name: str, **ids) -> str:
    fragment = FRAGMENTS[name]
    return render_template(fragment.template, **fragment.context(**ids))


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
    )


def publish_score_update(update: ScoreUpdate) -> None:
    """Render once, push to every open page of the collectivité (in every web process)."""
    if update.changed:
        current_hub().publish(collectivite_topic(update.collectivite_id), score_update_html(update))
