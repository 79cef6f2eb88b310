"""The états des lieux pages: the list and the freeze form (bad input re-renders with a French
message), a snapshot's page and downloads (the export of a snapshot has its figures), the
comparison of two snapshots or of one with now, and who may do what."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Collectivite, ScoreSnapshot
from app.rls import act_as, system_work
from app.scoring import SCORE_FIELDS
from app.services import snapshots, statuts
from tests.factories import add_member, login, make_user
from tests.integration.test_exports import TREE_ORDER, csv_rows, filled, xlsx_rows  # noqa: F401 (fixture)
from tests.suivi_content import run_jobs, tiny_content  # noqa: F401 (fixture)


@pytest.fixture
def people(filled):  # noqa: F811
    collectivite = db.session.get(Collectivite, filled)
    editor, reader, outsider = make_user(), make_user(), make_user()
    add_member(editor, collectivite, "edition")
    add_member(reader, collectivite, "lecture")
    return filled, editor, reader, outsider


def _url(cid, tail=""):
    return f"/collectivites/{cid}/referentiels/eci/etats-des-lieux{tail}"


def _freeze(client, cid, **form):
    return client.post(_url(cid), data={"quand": "maintenant", **form})


def _snapshot(cid, nom) -> ScoreSnapshot:
    db.session.expire_all()
    return db.session.query(ScoreSnapshot).filter_by(collectivite_id=cid, nom=nom).one()


def test_an_editor_freezes_now_and_sees_it_listed(client, people):
    cid, editor, _reader, _outsider = people
    login(client, editor)
    page = client.get(_url(cid))
    assert page.status_code == 200 and "Figer l'état des lieux" in page.text and "Aucun état des lieux figé" in page.text
    response = _freeze(client, cid, nom="Bilan 2026")
    assert response.status_code == 303
    listed = client.get(_url(cid)).text
    assert "Bilan 2026" in listed and "État des lieux « Bilan 2026 » figé." in listed
    assert editor.name in listed and 'data-confirm="Supprimer la sauvegarde « Bilan 2026 » ?"' in listed


@pytest.mark.parametrize("form, message", [
    ({"nom": "  "}, "Donnez un nom"),
    ({"nom": "x", "quand": "date", "date": "31/03/2025"}, "Date invalide"),
    ({"nom": "x", "quand": "date", "date": ""}, "Indiquez la date"),
    ({"nom": "x", "quand": "date", "date": "2999-01-01"}, "dans le futur"),
    ({"nom": "x", "quand": "date", "date": "2001-01-01"}, "Aucune donnée avant le"),
    ({"nom": "x", "quand": "hier"}, "Choisissez"),
])
def test_bad_input_re_renders_the_form_with_a_french_message(client, people, form, message):
    cid, editor, _reader, _outsider = people
    login(client, editor)
    response = _freeze(client, cid, **form)
    assert response.status_code == 422
    assert message in response.text and 'id="etats_des_lieux-freeze-form"' in response.text
    assert db.session.query(ScoreSnapshot).count() == 0


def test_a_duplicate_name_is_refused(client, people):
    cid, editor, _reader, _outsider = people
    login(client, editor)
    _freeze(client, cid, nom="Bilan")
    response = _freeze(client, cid, nom="Bilan")
    assert response.status_code == 422 and "existe déjà" in response.text


def test_readers_see_but_neither_freeze_nor_delete(client, people):
    cid, editor, reader, outsider = people
    login(client, editor)
    _freeze(client, cid, nom="Bilan")
    snapshot_id = _snapshot(cid, "Bilan").id
    login(client, reader)
    page = client.get(_url(cid)).text
    assert "Bilan" in page and "etats_des_lieux-freeze-form" not in page and "Supprimer" not in page
    assert _freeze(client, cid, nom="Autre").status_code == 403
    assert client.post(_url(cid, f"/{snapshot_id}/supprimer")).status_code == 403
    assert client.get(_url(cid, f"/{snapshot_id}")).status_code == 200
    login(client, outsider)
    for tail in ("", f"/{snapshot_id}", "/comparer", f"/{snapshot_id}/export.csv"):
        assert client.get(_url(cid, tail)).status_code == 403


def test_an_editor_deletes_a_snapshot(client, people):
    cid, editor, _reader, _outsider = people
    login(client, editor)
    _freeze(client, cid, nom="Bilan")
    snapshot_id = _snapshot(cid, "Bilan").id
    response = client.post(_url(cid, f"/{snapshot_id}/supprimer"), follow_redirects=True)
    assert "Sauvegarde supprimée." in response.text and db.session.get(ScoreSnapshot, snapshot_id) is None
    again = client.post(_url(cid, f"/{snapshot_id}/supprimer"), follow_redirects=True)
    assert "existe pas ou plus" in again.text


def test_unknown_targets_are_not_found(client, people):
    cid, editor, _reader, _outsider = people
    login(client, editor)
    assert client.get(f"/collectivites/{cid}/referentiels/xyz/etats-des-lieux").status_code == 404
    assert client.get(_url(cid, "/999999")).status_code == 404
    assert client.get(_url(cid, "/999999/export.xlsx")).status_code == 404
    response = client.get(_url(cid, "/comparer?a=999999&b=maintenant"))
    assert response.status_code == 400 and "Sauvegarde inconnue" in response.text
    assert client.get(_url(cid, "/comparer?a=abc")).status_code == 400


def _frozen_then_edited(client, people):
    """A snapshot of now, then an edit that raises the réalisé: (cid, snapshot)."""
    cid, editor, _reader, _outsider = people
    login(client, editor)
    _freeze(client, cid, nom="Avant")
    snapshot = _snapshot(cid, "Avant")
    act_as(editor)
    statuts.set_statut(editor, cid, "eci_1.1.2", "fait")
    run_jobs()
    return cid, snapshot


def test_the_export_of_a_snapshot_has_its_figures_not_todays(client, people):
    cid, snapshot = _frozen_then_edited(client, people)
    frozen = dict(zip(SCORE_FIELDS, snapshot.scores["eci"]))
    response = client.get(_url(cid, f"/{snapshot.id}/export.xlsx"))
    assert response.status_code == 200 and "-avant-" in response.headers["Content-Disposition"]
    sheet, rows = xlsx_rows(response.data)
    assert "sauvegarde « Avant »" in rows[0][0] and len(rows) == 2 + len(TREE_ORDER)
    header, root = rows[1], rows[2]
    assert root[header.index("Fait")] == frozen["point_fait"]
    assert root[header.index("Potentiel")] == frozen["point_potentiel"]
    now = xlsx_rows(client.get(f"/collectivites/{cid}/referentiels/eci/export.xlsx").data)[1]
    assert now[2][header.index("Fait")] > frozen["point_fait"]
    edited = TREE_ORDER.index("1.1.2") + 2  # the statut of the snapshot's moment, replayed
    assert (rows[edited][header.index("Statut")], now[edited][header.index("Statut")]) == ("Non renseigné", "Fait")
    records = csv_rows(client.get(_url(cid, f"/{snapshot.id}/export.csv")).data)
    assert len(records) == 1 + len(TREE_ORDER)
    assert records[1][records[0].index("Fait")] == f"{frozen['point_fait']:.3f}".rstrip("0").rstrip(".").replace(".", ",")


def test_the_snapshot_page_lists_every_node(client, people):
    cid, snapshot = _frozen_then_edited(client, people)
    page = client.get(_url(cid, f"/{snapshot.id}")).text
    assert page.count('<th scope="row">') == len(TREE_ORDER)
    assert "Télécharger la sauvegarde (XLSX)" in page


def test_comparing_a_snapshot_with_now_shows_the_change(client, people):
    cid, snapshot = _frozen_then_edited(client, people)
    page = client.get(_url(cid, f"/comparer?a={snapshot.id}&b=maintenant"))
    assert page.status_code == 200
    text = page.text
    assert "<svg" in text and "Écarts par axe" in text and "Écarts par mesure" in text
    # The edited mesure (the tiny référentiel's actions are its axes) comes first, with its rise.
    mesures = text.split("Écarts par mesure")[1]
    assert mesures.index("1 Action 1") < mesures.index("2 Action 2") and "<td>+" in mesures
    choice = client.get(_url(cid, "/comparer"))
    assert choice.status_code == 200 and "Choisir une sauvegarde" in choice.text


def test_a_past_date_is_frozen_from_the_history(client, people):
    """Everything written three days ago, then today's edit: yesterday's snapshot is the state
    before the edit, rebuilt from the history."""
    cid, editor, _reader, _outsider = people
    login(client, editor)
    _freeze(client, cid, nom="Avant")
    before = _snapshot(cid, "Avant").scores
    with system_work():
        for table, column in (("history_entry", "at"), ("action_statut", "modified_at"), ("reponse", "modified_at")):
            db.session.execute(text(f"UPDATE {table} SET {column} = :moment WHERE collectivite_id = :cid"),
                               {"moment": datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3), "cid": cid})
        db.session.commit()
    act_as(editor)
    statuts.set_statut(editor, cid, "eci_1.1.2", "fait")
    run_jobs()
    yesterday = (datetime.now(snapshots.PARIS) - timedelta(days=1)).date().isoformat()
    assert _freeze(client, cid, nom="Hier", quand="date", date=yesterday).status_code == 303
    assert _snapshot(cid, "Hier").scores == before != _snapshot_now(client, cid)


def _snapshot_now(client, cid) -> dict:
    _freeze(client, cid, nom="Maintenant")
    return _snapshot(cid, "Maintenant").scores


def test_the_tree_page_offers_the_downloads(client, people):
    cid, _editor, reader, _outsider = people
    login(client, reader)
    page = client.get(f"/collectivites/{cid}/referentiels/eci").text
    assert f"/collectivites/{cid}/referentiels/eci/export.xlsx" in page and _url(cid) in page
