"""The rows the engine gives (tuples, partly shared between tables) as the evaluation service
stores them and diffs them against the stored ones."""
from app.scoring import SCORE_FIELDS
from app.services import evaluation, scores, statuts, suivi
from tests.suivi_content import make_editor, tiny_content  # noqa: F401 (fixture)


def test_rows_read_back_from_the_database_diff_like_the_remembered_ones(tiny_content, monkeypatch):
    monkeypatch.setattr(suivi, "enqueue_rescore", lambda *ids: None)  # re-scored by hand here
    user, collectivite = make_editor()
    evaluation.rescore(collectivite.id, "eci")  # the first scores
    evaluation.db.session.commit()
    first = scores.scores_for(collectivite.id, "eci")
    evaluation._recent_records.clear()  # as in another process: the previous rows come from the database
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    evaluation.db.session.commit()
    update = evaluation.rescore(collectivite.id, "eci")
    evaluation.db.session.commit()
    assert set(update.changed) == {"eci_1.1.1", "eci_1.1", "eci_1", "eci"}
    assert update.personnalisation_changed == frozenset()
    stored = scores.scores_for(collectivite.id, "eci")
    assert set(stored) == set(first) and stored["eci_1.1.1"]["point_fait"] == 5.0
    assert all(list(stored[a]) == list(SCORE_FIELDS) for a in stored)
