"""Edits through app.services.suivi: validation, one transaction (value + history + revision), re-score."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActionStatut, HistoryEntry, Precision, Reponse, ScoreState
from app.services import personnalisation, precisions, statuts, suivi
from app.services.suivi import InvalidEdit
from tests.factories import add_member, make_user
from app.persistence import utcnow
from app.services.scores import scores_for
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)


@pytest.fixture
def editor(tiny_content):
    return make_editor()


def _state(collectivite_id):
    db.session.expire_all()
    return db.session.get(ScoreState, (collectivite_id, "eci"))


def _history(collectivite_id):
    return db.session.scalars(select(HistoryEntry).where(HistoryEntry.collectivite_id == collectivite_id).order_by(HistoryEntry.id)).all()


def test_a_statut_is_saved_with_its_history_then_scored(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "detaille", ("50", "25,5", 24.5))
    run_jobs()
    statut = db.session.scalar(select(ActionStatut))
    assert (statut.avancement, statut.fait, statut.programme, statut.pas_fait) == ("detaille", 0.5, 0.255, 0.245)
    assert statut.modified_by_id == user.id and statut.referentiel_id == "eci"
    (entry,) = _history(collectivite.id)  # two edits by the same person within the hour: one entry
    assert (entry.kind, entry.key, entry.old_value, entry.user_id) == ("statut", "eci_1.1.1", None, user.id)
    assert json.loads(entry.new_value) == {"statut": "detaille", "detail": [0.5, 0.255, 0.245]}
    state = _state(collectivite.id)
    assert state.edit_revision == state.scored_revision == 2
    score = scores_for(collectivite.id, "eci")["eci_1.1.1"]
    assert (score["point_fait"], score["point_programme"]) == (2.5, 1.275)


def test_non_concerne_sets_concerne_false_and_redistributes(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "non_concerne")
    run_jobs()
    statut = db.session.scalar(select(ActionStatut))
    assert (statut.avancement, statut.concerne) == ("non_renseigne", False)
    scores = scores_for(collectivite.id, "eci")
    potentiel = {a: scores[a]["point_potentiel"] for a in ("eci_1.2.1", "eci_1.2.2", "eci_1.2")}
    assert potentiel == {"eci_1.2.1": 0.0, "eci_1.2.2": 15.0, "eci_1.2": 30.0}  # scoring.md E2


def test_setting_the_same_statut_again_writes_nothing(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    assert len(_history(collectivite.id)) == 1
    assert _state(collectivite.id).edit_revision == 1


@pytest.mark.parametrize(
    ("action_id", "value", "detail", "message"),
    [
        ("eci_1.1.1", "detaille", (50, 30, 30), "totaliser 100"),
        ("eci_1.1.1", "detaille", (120, -20, 0), "entre 0 et 100"),
        ("eci_1.1.1", "detaille", ("beaucoup", 0, 0), "nombres"),
        ("eci_1.1.1", "detaille", None, "trois pourcentages"),
        ("eci_1.1.1", "presque", None, "statut inconnu"),
        ("eci_1", "fait", None, "sous-actions et les tâches"),
        ("eci_9.9", "fait", None, "action inconnue"),
    ],
)
def test_invalid_statuts_are_refused_and_nothing_is_written(editor, action_id, value, detail, message):
    user, collectivite = editor
    with pytest.raises(InvalidEdit, match=message):
        statuts.set_statut(user, collectivite.id, action_id, value, detail)
    assert db.session.scalar(select(func.count()).select_from(ActionStatut)) == 0
    assert _history(collectivite.id) == [] and _state(collectivite.id) is None


def test_desactivated_actions_cannot_be_edited(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_2.2.1", "fait")
    assert personnalisation.set_reponse(user, collectivite.id, "compost", "non") == "NON"
    with pytest.raises(InvalidEdit, match="désactivée"):
        statuts.set_statut(user, collectivite.id, "eci_2.2.1", "pas_fait")
    run_jobs()
    assert scores_for(collectivite.id, "eci")["eci_2.2"]["desactive"] is True


def test_readers_and_strangers_cannot_write(editor):
    _, collectivite = editor
    reader, stranger = make_user(), make_user()
    add_member(reader, collectivite, "lecture")
    for user in (reader, stranger):
        with pytest.raises(PermissionError):
            statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
        with pytest.raises(PermissionError):
            personnalisation.set_reponse(user, collectivite.id, "compost", "OUI")
        with pytest.raises(PermissionError):
            precisions.set_precision(user, collectivite.id, "eci_1", "texte")
    assert _history(collectivite.id) == []


def test_reponses_are_validated_saved_cleared_and_rescore_every_referentiel(editor):
    user, collectivite = editor
    with pytest.raises(InvalidEdit, match="OUI ou NON"):
        personnalisation.set_reponse(user, collectivite.id, "compost", "peut-être")
    with pytest.raises(InvalidEdit, match="question inconnue"):
        personnalisation.set_reponse(user, collectivite.id, "inconnue", "OUI")
    assert personnalisation.set_reponse(user, collectivite.id, "compost", "oui") == "OUI"
    assert db.session.scalar(select(Reponse.value)) == "OUI"
    assert personnalisation.set_reponse(user, collectivite.id, "compost", "") is None
    assert db.session.scalar(select(func.count()).select_from(Reponse)) == 0
    assert _history(collectivite.id) == []  # answered then cleared within the hour: nothing changed
    assert _state(collectivite.id).edit_revision == 2


def test_precisions_are_saved_replaced_and_removed_without_rescoring(editor):
    user, collectivite = editor
    precisions.set_precision(user, collectivite.id, "eci_1", "  Délibération **2024**  ")
    assert db.session.scalar(select(Precision.texte)) == "Délibération **2024**"
    with pytest.raises(InvalidEdit, match="dépasse"):
        precisions.set_precision(user, collectivite.id, "eci_1", "x" * (precisions.PRECISION_MAX_LENGTH + 1))
    precisions.set_precision(user, collectivite.id, "eci_1", "")
    assert db.session.scalar(select(func.count()).select_from(Precision)) == 0
    assert _history(collectivite.id) == []  # written then removed within the hour: nothing changed
    assert _state(collectivite.id) is None


def test_the_edit_is_committed_before_the_rescore_is_enqueued(editor, monkeypatch):
    user, collectivite = editor

    def broken_queue(*_args):
        raise RuntimeError("file indisponible")

    monkeypatch.setattr(suivi, "enqueue_rescore", broken_queue)
    with pytest.raises(RuntimeError):
        statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    db.session.rollback()
    assert db.session.scalar(select(ActionStatut.avancement)) == "fait"
    assert len(_history(collectivite.id)) == 1 and _state(collectivite.id).edit_revision == 1


def test_a_precision_markdown_cannot_refuse_is_refused_with_a_french_message(editor):
    user, collectivite = editor
    with pytest.raises(InvalidEdit, match="imbrique trop de citations"):
        precisions.set_precision(user, collectivite.id, "eci_1", ">" * 400 + " trop profond")
    assert db.session.scalar(select(func.count()).select_from(Precision)) == 0 and _history(collectivite.id) == []


@pytest.fixture
def archived_referentiel(tiny_content):
    """`old`: a référentiel gone from the content, with a statut saved before it went."""
    from app.models import Action, Referentiel

    db.session.add(Referentiel(id="old", nom="Ancien référentiel", action_level=1, points=10, archived=True))
    db.session.flush()
    for depth, (action_id, parent) in enumerate((("old", None), ("old_1", "old"), ("old_1.1", "old_1"))):
        db.session.add(Action(id=action_id, referentiel_id="old", parent_id=parent, identifiant=action_id[4:],
                              nom=action_id, depth=depth, position=depth, points=10))
    db.session.commit()
    return "old"


def test_archived_referentiels_are_skipped_by_edits_rescores_and_stale_keys(editor, archived_referentiel, monkeypatch):
    from app.services import referentiels
    from app.services.evaluation import stale_score_keys

    user, collectivite = editor
    with pytest.raises(InvalidEdit, match="action inconnue"):
        statuts.set_statut(user, collectivite.id, "old_1.1", "fait")
    db.session.add(ActionStatut(collectivite_id=collectivite.id, referentiel_id="old", action_id="old_1.1",
                                avancement="fait", concerne=True, modified_at=utcnow()))
    db.session.commit()
    enqueued = []
    monkeypatch.setattr(suivi, "enqueue_rescore", lambda cid, referentiel_id: enqueued.append(referentiel_id))
    personnalisation.set_reponse(user, collectivite.id, "compost", "OUI")
    assert enqueued == ["eci"]
    assert db.session.get(ScoreState, (collectivite.id, "old")) is None
    assert stale_score_keys() == [(collectivite.id, "eci")]  # the archived statut's pair is left out
    assert referentiels.referentiel_links() == [("eci", "Économie circulaire (test)")]


# History merging -----------------------------------------------------------------------------------


def _age_history(collectivite_id, minutes):
    for entry in _history(collectivite_id):
        entry.at -= timedelta(minutes=minutes)
    db.session.commit()


def test_edits_of_one_item_by_one_person_within_an_hour_make_one_entry(editor):
    user, collectivite = editor
    personnalisation.set_reponse(user, collectivite.id, "compost", "OUI")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    _age_history(collectivite.id, 59)
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    statuts.set_statut(user, collectivite.id, "eci_1.1.2", "fait")
    entries = {(h.kind, h.key): h for h in _history(collectivite.id)}
    assert len(entries) == 3
    merged = entries["statut", "eci_1.1.1"]
    assert (merged.old_value, json.loads(merged.new_value)["statut"]) == (None, "fait")
    assert utcnow() - merged.at < timedelta(minutes=1)  # the time of the latest edit


def test_an_hour_later_or_another_person_makes_a_new_entry(editor):
    user, collectivite = editor
    colleague = make_user()
    add_member(colleague, collectivite, "edition")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    _age_history(collectivite.id, 61)
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    statuts.set_statut(colleague, collectivite.id, "eci_1.1.1", "pas_fait")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    entries = [(h.user_id, h.old_value and json.loads(h.old_value)["statut"], json.loads(h.new_value)["statut"])
               for h in _history(collectivite.id)]
    assert entries == [(user.id, None, "programme"), (user.id, "programme", "fait"),
                       (colleague.id, "fait", "pas_fait"), (user.id, "pas_fait", "programme")]


def test_a_burst_back_to_the_value_before_it_leaves_no_entry(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    _age_history(collectivite.id, 120)
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "programme")
    assert len(_history(collectivite.id)) == 1 and _state(collectivite.id).edit_revision == 3
