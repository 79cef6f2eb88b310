"""The daily score history keeps every node's scores: one row per collectivité × référentiel × day,
the day's last re-score wins; scores_on reads the state at the end of a day."""
from datetime import date, datetime, timedelta

import flask_migrate
import pytest
from sqlalchemy import inspect, select

from app.extensions import db
from app.models import ScoreHistory, ScoreState
from app.services import evaluation, personnalisation, scores, statuts
from app.rls import system_work
from tests.suivi_content import frozen_clock, make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

DAY_ONE = date(2026, 3, 30)


@pytest.fixture
def editor(tiny_content):
    return make_editor()


@pytest.fixture
def clock(monkeypatch):
    """The re-scores' clock, frozen at noon of DAY_ONE; `clock.advance(days=1)` moves it."""
    return frozen_clock(monkeypatch, datetime.combine(DAY_ONE, datetime.min.time()) + timedelta(hours=12), evaluation)


def _history(collectivite_id) -> list[ScoreHistory]:
    db.session.expire_all()
    return db.session.scalars(
        select(ScoreHistory).where(ScoreHistory.collectivite_id == collectivite_id).order_by(ScoreHistory.day)
    ).all()


def _fait_programme(records, action_id) -> tuple[float, float]:
    return records[action_id]["point_fait"], records[action_id]["point_programme"]


def test_two_rescores_on_one_day_keep_one_row_with_every_node_at_the_latest_values(editor, clock):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    clock.advance(hours=3)
    statuts.set_statut(user, collectivite.id, "eci_1.2.2", "programme")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    run_jobs()
    (row,) = _history(collectivite.id)
    assert row.day == DAY_ONE
    assert row.scores == db.session.get(ScoreState, (collectivite.id, "eci")).scores  # every node, latest
    day = scores.StoredScores(row.scores)
    assert _fait_programme(day, "eci_1.2") == (10.0, 10.0)
    assert _fait_programme(day, "eci_1.1") == (5.0, 0.0)
    assert _fait_programme(day, "eci_1") == (15.0, 10.0)
    assert (row.point_fait, row.point_programme) == _fait_programme(day, "eci")  # the root columns agree


def test_each_day_keeps_its_own_nodes_scores(editor, clock):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    clock.advance(days=1)
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "programme")
    personnalisation.set_reponse(user, collectivite.id, "compost", "NON")  # désactive eci_2.2
    run_jobs()
    first, second = _history(collectivite.id)
    assert (first.day, second.day) == (DAY_ONE, DAY_ONE + timedelta(days=1))
    before, after = scores.StoredScores(first.scores), scores.StoredScores(second.scores)
    assert _fait_programme(before, "eci_1.2") == (10.0, 0.0) and not before["eci_2.2"]["desactive"]
    assert _fait_programme(after, "eci_1.2") == (0.0, 10.0) and after["eci_2.2"]["desactive"]
    assert (first.point_fait, second.point_fait) == (10.0, 0.0)


def test_scores_on_reads_the_latest_recorded_day_up_to_the_date(editor, clock):
    user, collectivite = editor
    assert evaluation.scores_on(collectivite.id, "eci", DAY_ONE) is None  # nothing scored yet
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    clock.advance(days=3)
    statuts.set_statut(user, collectivite.id, "eci_1.2.2", "fait")
    run_jobs()

    def fait_on(day):
        scores = evaluation.scores_on(collectivite.id, "eci", day)
        return scores and scores["eci_1.2"]["point_fait"]

    assert fait_on(DAY_ONE - timedelta(days=1)) is None
    assert fait_on(DAY_ONE) == fait_on(DAY_ONE + timedelta(days=2)) == 10.0  # no re-score on the days between
    assert fait_on(DAY_ONE + timedelta(days=3)) == fait_on(date(2030, 1, 1)) == 20.0
    assert evaluation.scores_on(collectivite.id, "cae", DAY_ONE + timedelta(days=3)) is None
    assert evaluation.scores_on(collectivite.id + 1, "eci", DAY_ONE + timedelta(days=3)) is None


def test_scores_on_a_day_recorded_before_the_per_node_history_is_unknown(editor, clock):
    user, collectivite = editor
    with system_work():  # a root-only row, as the re-score job wrote them before the migration
        db.session.add(ScoreHistory(collectivite_id=collectivite.id, referentiel_id="eci", day=DAY_ONE - timedelta(days=1),
                                    point_fait=5.0, point_programme=0.0, point_pas_fait=0.0, point_non_renseigne=95.0,
                                    point_potentiel=100.0, point_referentiel=100.0))
        db.session.commit()
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    assert evaluation.scores_on(collectivite.id, "eci", DAY_ONE - timedelta(days=1)) is None
    assert evaluation.scores_on(collectivite.id, "eci", DAY_ONE)["eci"]["point_fait"] == 10.0


def test_the_node_history_migration_downgrades_and_upgrades_again(app_context):
    def history_columns():
        return {column["name"] for column in inspect(db.engine).get_columns("score_history")}

    db.session.remove()
    flask_migrate.downgrade(revision="0005_node_score_history-1")
    assert "scores" not in history_columns() and "point_fait" in history_columns()
    flask_migrate.upgrade()
    assert "scores" in history_columns()
