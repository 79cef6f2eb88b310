"""Snapshots ("figer l'état des lieux"): the replay of a past moment from the history gives the
scores stored then; freezing validates its name and date; two snapshots compare node by node."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from app.models import ActionStatut, HistoryEntry, ScoreSnapshot, ScoreState
from app.rls import act_as, system_work
from app.services import evaluation, personnalisation, snapshots, statuts, suivi
from app.services.scores import StoredScores
from app.services.history import history_page
from app.services.suivi import InvalidEdit
from tests.factories import add_member, make_user
from tests.suivi_content import frozen_clock, make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

START = datetime(2026, 3, 30, 7, 0)  # naive UTC, 9:00 in Paris


@pytest.fixture
def editor(tiny_content):
    return make_editor()


@pytest.fixture
def clock(monkeypatch):
    """One frozen clock for the edits, their history, the re-scores and the snapshots."""
    return frozen_clock(monkeypatch, START, suivi, statuts, personnalisation, evaluation, snapshots)


def _stored_scores(collectivite_id) -> dict:
    db.session.expire_all()
    return db.session.get(ScoreState, (collectivite_id, "eci")).scores


def _replayed(collectivite_id, at) -> dict:
    return snapshots.replay(collectivite_id, "eci", at).records


def _edit_and_capture(clock, edit, captures, collectivite_id) -> None:
    edit()
    run_jobs()
    captures.append((clock.now, _stored_scores(collectivite_id)))


def test_the_replay_of_each_moment_of_an_edit_sequence_gives_the_scores_stored_then(editor, clock):
    user, collectivite = editor
    other = make_user()
    add_member(other, collectivite, "edition")
    cid, captures = collectivite.id, []

    def step(edit, **delta):
        clock.advance(**delta)
        _edit_and_capture(clock, edit, captures, cid)

    step(lambda: statuts.set_statut(user, cid, "eci_1.2.1", "fait"))
    step(lambda: statuts.set_statut(user, cid, "eci_1.1.1", "detaille", (50, 30, 20)), hours=2)
    step(lambda: personnalisation.set_reponse(user, cid, "compost", "NON"), hours=2)  # désactive eci_2.2
    act_as(other)
    step(lambda: statuts.set_statut(other, cid, "eci_2.1", "non_concerne"), days=1)
    step(lambda: statuts.set_statut(other, cid, "eci_1.2.1", "programme"), hours=3)  # over another's value
    act_as(user)
    step(lambda: personnalisation.set_reponse(user, cid, "compost", None), hours=2)  # cleared: eci_2.2 counts again
    step(lambda: statuts.set_statut(user, cid, "eci_1.1.1", "non_renseigne"), days=2)

    assert len({str(scores) for _, scores in captures}) == len(captures)  # every step changed the scores
    for at, scores in captures:
        assert _replayed(cid, at) == scores
        assert _replayed(cid, at + timedelta(minutes=59)) == scores  # until the next edit
    before_anything = StoredScores(_replayed(cid, START - timedelta(seconds=1)))
    assert (before_anything["eci"]["point_fait"], before_anything["eci"]["point_programme"]) == (0.0, 0.0)
    assert before_anything["eci"]["point_potentiel"] == 100.0  # no désactivation yet


def test_a_moment_inside_a_merged_burst_replays_the_value_from_before_the_burst(editor, clock):
    user, collectivite = editor
    cid, captures = collectivite.id, []
    _edit_and_capture(clock, lambda: statuts.set_statut(user, cid, "eci_1.2.1", "fait"), captures, cid)
    clock.advance(hours=2)
    _edit_and_capture(clock, lambda: statuts.set_statut(user, cid, "eci_1.2.1", "programme"), captures, cid)
    clock.advance(minutes=20)  # the same person within the hour: one merged entry, fait -> pas fait
    _edit_and_capture(clock, lambda: statuts.set_statut(user, cid, "eci_1.2.1", "pas_fait"), captures, cid)
    clock.advance(hours=2)
    _edit_and_capture(clock, lambda: statuts.set_statut(user, cid, "eci_1.2.2", "fait"), captures, cid)
    assert db.session.scalar(select(HistoryEntry.old_value).where(HistoryEntry.key == "eci_1.2.1")
                             .order_by(HistoryEntry.id.desc()).limit(1)) == statuts.parse_statut("fait").as_json()

    (first, fait), (inside, _programme), (last, pas_fait), _ = captures
    assert _replayed(cid, first) == fait
    assert _replayed(cid, inside) == fait  # the limit: the burst's intermediate value is gone
    assert _replayed(cid, last) == pas_fait


def test_statuts_without_history_count_as_always_there(editor, clock):
    user, collectivite = editor
    with system_work():  # an import: a statut written without history entry
        db.session.add(ActionStatut(collectivite_id=collectivite.id, referentiel_id="eci", action_id="eci_2.1",
                                    avancement="fait", concerne=True, modified_at=clock.now))
        db.session.commit()
    clock.advance(days=1)
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    earlier = _replayed(collectivite.id, clock.now - timedelta(hours=1))
    fait = evaluation.SCORE_FIELDS.index("point_fait")
    assert (earlier["eci_2.1"][fait], earlier["eci_1.2.1"][fait]) == (20.0, 0.0)


def test_the_replay_of_now_reads_the_stored_scores_and_a_stale_state_is_computed(editor, clock, monkeypatch):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    assert _replayed(collectivite.id, clock.now) == _stored_scores(collectivite.id)
    monkeypatch.setattr(suivi, "enqueue_rescore", lambda *args, **kwargs: None)  # the job has not run yet
    statuts.set_statut(user, collectivite.id, "eci_1.2.2", "fait")  # stale
    fait = evaluation.SCORE_FIELDS.index("point_fait")
    assert _replayed(collectivite.id, clock.now)["eci_1.2"][fait] == 20.0
    assert _stored_scores(collectivite.id)["eci_1.2"][fait] == 10.0


# Freezing ------------------------------------------------------------------------------------------


def _edited_over_two_days(user, collectivite, clock) -> None:
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    clock.advance(days=1)
    statuts.set_statut(user, collectivite.id, "eci_1.2.2", "fait")
    statuts.set_statut(user, collectivite.id, "eci_2.1", "programme")
    run_jobs()


def test_freeze_now_and_at_a_past_day_then_list_them(editor, clock):
    user, collectivite = editor
    _edited_over_two_days(user, collectivite, clock)
    today = snapshots.freeze(user, collectivite.id, "eci", "  Bilan du jour ")
    past = snapshots.freeze(user, collectivite.id, "eci", "Veille", START.date().isoformat())

    assert (today.nom, today.at, today.kind, today.created_by_id) == ("Bilan du jour", clock.now, "manuel", user.id)
    assert today.scores == _stored_scores(collectivite.id)
    assert (today.point_fait, today.point_programme, today.point_potentiel) == (20.0, 20.0, 100.0)
    assert past.at == datetime(2026, 3, 30, 21, 59, 59, 999999)  # end of the day in Paris (summer time)
    assert (past.point_fait, past.point_programme) == (10.0, 0.0)
    assert past.scores == _replayed(collectivite.id, START)
    listed = snapshots.list_snapshots(collectivite.id, "eci")
    assert [snapshot.nom for snapshot in listed] == ["Bilan du jour", "Veille"]

    page = history_page(collectivite.id, {"type": "snapshot"})
    assert [(item.kind_label, item.new) for item in page["items"]] == [
        ("État des lieux figé", "Veille"), ("État des lieux figé", "Bilan du jour")]


@pytest.mark.parametrize("nom, at, message", [
    ("", None, "Donnez un nom"),
    ("   ", None, "Donnez un nom"),
    ("x" * 301, None, "ne doit pas dépasser 300 caractères"),
    ("Bilan", "31/03/2026", "Date invalide"),
    ("Bilan", "2026-02-30", "Date invalide"),
    ("Bilan", "2026-04-01", "ne peut pas être dans le futur"),
    ("Bilan", datetime(2026, 3, 31, 12, 1), "ne peut pas être dans le futur"),
    ("Bilan", "2026-03-29", "Aucune donnée avant le 30/03/2026"),
    ("Bilan", date(1900, 1, 1), "Aucune donnée avant le 30/03/2026"),
])
def test_freeze_refuses_bad_input_with_a_french_message(editor, clock, nom, at, message):
    user, collectivite = editor
    _edited_over_two_days(user, collectivite, clock)  # now: 2026-03-31 07:00 UTC
    with pytest.raises(InvalidEdit, match=message):
        snapshots.freeze(user, collectivite.id, "eci", nom, at)
    assert snapshots.list_snapshots(collectivite.id, "eci") == []


def test_a_name_is_unique_per_referentiel(editor, clock):
    user, collectivite = editor
    _edited_over_two_days(user, collectivite, clock)
    snapshots.freeze(user, collectivite.id, "eci", "Bilan")
    with pytest.raises(InvalidEdit, match="« Bilan » existe déjà"):
        snapshots.freeze(user, collectivite.id, "eci", " Bilan ", "2026-03-30")
    assert len(snapshots.list_snapshots(collectivite.id, "eci")) == 1


def test_a_collectivite_without_any_data_can_only_freeze_now(editor, clock):
    user, collectivite = editor
    with pytest.raises(InvalidEdit, match="seul l'état actuel"):
        snapshots.freeze(user, collectivite.id, "eci", "Hier", "2026-03-29")
    snapshot = snapshots.freeze(user, collectivite.id, "eci", "Départ", "2026-03-30")  # today: now
    assert (snapshot.at, snapshot.point_fait, snapshot.point_potentiel) == (clock.now, 0.0, 100.0)


def test_an_unknown_referentiel_is_refused(editor, clock):
    user, collectivite = editor
    with pytest.raises(InvalidEdit, match="référentiel inconnu"):
        snapshots.freeze(user, collectivite.id, "xyz", "Bilan")


def test_a_lecture_member_may_neither_freeze_nor_delete(editor, clock):
    user, collectivite = editor
    snapshot = snapshots.freeze(user, collectivite.id, "eci", "Bilan")
    reader = make_user()
    add_member(reader, collectivite, "lecture")
    act_as(reader)
    with pytest.raises(PermissionError):
        snapshots.freeze(reader, collectivite.id, "eci", "Autre")
    with pytest.raises(PermissionError):
        snapshots.delete_snapshot(reader, collectivite.id, snapshot.id)
    assert [s.nom for s in snapshots.list_snapshots(collectivite.id, "eci")] == ["Bilan"]


def test_delete_a_manual_snapshot_only(editor, clock):
    user, collectivite = editor
    manual = snapshots.freeze(user, collectivite.id, "eci", "Bilan")
    audit = snapshots.freeze(user, collectivite.id, "eci", "Audit")
    audit.kind = "pre_audit"
    db.session.commit()
    manual_id, audit_id = manual.id, audit.id
    snapshots.delete_snapshot(user, collectivite.id, manual_id)
    with pytest.raises(InvalidEdit, match="figées à la main"):
        snapshots.delete_snapshot(user, collectivite.id, audit_id)
    with pytest.raises(InvalidEdit, match="n'existe pas"):
        snapshots.delete_snapshot(user, collectivite.id, manual_id)
    assert [s.nom for s in snapshots.list_snapshots(collectivite.id, "eci")] == ["Audit"]
    assert history_page(collectivite.id, {"type": "snapshot"})["items"][0].old == "Bilan"


# Comparison ----------------------------------------------------------------------------------------


def test_compare_gives_both_values_and_deltas_per_axe_and_action(editor, clock):
    user, collectivite = editor
    _edited_over_two_days(user, collectivite, clock)
    personnalisation.set_reponse(user, collectivite.id, "compost", "NON")  # désactive eci_2.2: eci_2.1 gets its 40 points
    run_jobs()
    before = snapshots.freeze(user, collectivite.id, "eci", "Veille", "2026-03-30")
    after = snapshots.freeze(user, collectivite.id, "eci", "Aujourd'hui")

    rows = snapshots.compare(before, after)
    assert [(row.action_id, row.depth, row.is_action) for row in rows] == [
        ("eci", 0, False), ("eci_1", 1, True), ("eci_2", 1, True)]
    root, axe_1, axe_2 = rows
    assert (root.a.point_fait, root.b.point_fait, root.delta.point_fait) == (10.0, 20.0, 10.0)
    assert (root.a.point_programme, root.b.point_programme, root.delta.point_programme) == (0.0, 60.0, 60.0)
    assert (root.a.fait_percent, root.b.fait_percent, root.delta.fait_percent) == (10.0, 20.0, 10.0)
    assert (axe_1.a.fait_percent, axe_1.b.fait_percent, axe_1.delta.fait_percent) == (25.0, 50.0, 25.0)
    assert (axe_2.delta.point_programme, axe_2.b.programme_percent, axe_2.delta.point_potentiel) == (60.0, 100.0, 0.0)


def test_compare_with_a_node_missing_from_one_snapshot_and_across_referentiels(editor, clock):
    user, collectivite = editor
    a = snapshots.freeze(user, collectivite.id, "eci", "A")
    b = snapshots.freeze(user, collectivite.id, "eci", "B")
    b.scores = {key: value for key, value in b.scores.items() if key != "eci_2"}  # from a content without it
    row = next(row for row in snapshots.compare(a, b) if row.action_id == "eci_2")
    assert row.a is not None and row.b is None and row.delta is None
    b.referentiel_id = "cae"
    with pytest.raises(InvalidEdit, match="même référentiel"):
        snapshots.compare(a, b)
    db.session.rollback()


# PostgreSQL row-level security -------------------------------------------------------------------


INSERT_SNAPSHOT = text(
    "INSERT INTO score_snapshot (collectivite_id, referentiel_id, nom, at, kind, created_at, point_fait, "
    "point_programme, point_pas_fait, point_non_renseigne, point_potentiel, point_referentiel, scores) "
    "VALUES (:collectivite_id, 'eci', :nom, now(), 'manuel', now(), 0, 0, 0, 100, 100, 100, '{}')"
)


@pytest.mark.postgres
@pytest.mark.parametrize("role, refused", [("lecture", True), ("edition", False), ("admin", False)])
def test_the_database_refuses_a_raw_snapshot_insert_unless_the_member_may_edit(tiny_content, role, refused):
    member, collectivite = make_editor(role)
    statement = INSERT_SNAPSHOT.bindparams(collectivite_id=collectivite.id, nom=f"Brut {role}")
    if refused:
        with pytest.raises(ProgrammingError, match="row-level security"):
            db.session.execute(statement)
        db.session.rollback()
    else:
        db.session.execute(statement)
        db.session.commit()
    count = db.session.scalar(select(db.func.count(ScoreSnapshot.id)).where(ScoreSnapshot.collectivite_id == collectivite.id))
    assert count == (0 if refused else 1)
