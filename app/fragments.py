"""Fragments rendered outside a page request: by name, from ids, for pushes over websocket.

Each registered fragment is a template of app/templates/fragments plus a context builder taking
ids (and optionally data the caller already holds). The page includes the same template on first
load, so a pushed fragment replaces its element exactly (same id, swapped out of band).
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import render_template

from app.live import collectivite_topic, current_hub
from app.services.evaluation import ScoreUpdate, scores_for, scores_rescored_since


@dataclass(frozen=True)
class Fragment:
    template: str
    context: Callable[..., dict]


def _action_score_context(collectivite_id: int, referentiel_id: str, action_id: str, score=None, oob=False) -> dict:
    if score is None:
        score = scores_for(collectivite_id, referentiel_id).get(action_id)
    return {"action_id": action_id, "score": score, "oob": oob}


FRAGMENTS = {
    "action_score": Fragment("fragments/scores/_action_score.html", _action_score_context),
}


def render_fragment(name: str, **ids) -> str:
    fragment = FRAGMENTS[name]
    return render_template(fragment.template, **fragment.context(**ids))


def score_update_html(update: ScoreUpdate) -> str:
    """Out-of-band score slots of every node whose record changed (the root, i.e. the totals,
    included whenever it changed)."""
    return _score_slots_html(update.collectivite_id, update.referentiel_id, update.changed)


def scores_resync_html(collectivite_id: int, since: float) -> str:
    """Out-of-band score slots of every node of the référentiels re-scored since `since`
    (time.time()): for a page that may have missed their pushes. Empty when none was (a whole
    CAE référentiel is ~700 kB of HTML: sent only when needed)."""
    since_utc = datetime.fromtimestamp(since, UTC).replace(tzinfo=None)
    return "".join(
        _score_slots_html(collectivite_id, referentiel_id, scores)
        for referentiel_id, scores in scores_rescored_since(collectivite_id, since_utc).items()
    )


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
