"""Demande de labellisation and audit: the parcours non_demandee → demande_envoyee → audit_en_cours →
audit_valide, its refusals (French, all listed), the auditeur's rights, the statut lock during the
audit, the frozen snapshots, the labellisation in the history, the public page and the open data.

The étoiles come from app.services.labellisation.etoiles_of, replaced here by fixed states."""
import io
import json

import pytest

from app.extensions import db
from app.models import AuditMesure, HistoryEntry, Labellisation, ScoreSnapshot
from app.rls import act_as, system_work
from app.services import audits, statuts
from app.services.labellisation import Critere, EtoilesState
from app.services.suivi import InvalidEdit
from tests.factories import login, make_collectivite, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PRIVATE = "AVIS-PRIVE-7319"  # the auditeur's avis: never on a public page nor in the API
REACHED_3 = EtoilesState("eci", 3, 4, 55.0, 65.0, [Critere(1, "eci_1", "Engager", True, "")], False)


@pytest.fixture
def etoiles(monkeypatch):
    """Set the étoiles the service reads (default: 3 stars reached, criteria met)."""
    state = {"value": REACHED_3}
    monkeypatch.setattr(audits, "etoiles_of", lambda collectivite_id, referentiel_id: state["value"])
    return state


@pytest.fixture
def parcours(app_context, tiny_content, etoiles):
    """An editor with scores on eci, and an auditeur named on that collectivité and référentiel."""
    editor, collectivite = make_editor()
    statuts.set_statut(editor, collectivite.id, "eci_1.1.1", "fait")
    run_jobs()
    auditeur = make_user()
    with system_work():
        audits.add_auditeur(auditeur.email, str(collectivite.id), "eci")
    return editor, auditeur, collectivite.id


def _document(editor, cid):
    audits.add_document(editor, cid, "eci", io.BytesIO(PDF), "engagement.pdf")


def _as(user):
    act_as(user)
    return user


def test_a_demande_lists_every_unmet_condition(parcours, etoiles):
    editor, _, cid = parcours
    etoiles["value"] = EtoilesState("eci", 1, 2, 20.0, 35.0, [Critere(2, "eci_1", "Avoir engagé la politique", False,
                                                                        "100 % fait requis")], False)
    with pytest.raises(InvalidEdit) as refused:
        audits.send_demande(editor, cid, "eci", "labellisation", "2")
    message = str(refused.value)
    assert "permettent 1 étoile, pas 2 étoiles" in message
    assert "Critère non rempli (2 étoiles) : Avoir engagé la politique (100 % fait requis)" in message
    assert "Document requis manquant" in message
    assert audits.labellisation_page(editor, cid, "eci")["statut"] == "non_demandee"


@pytest.mark.parametrize("sujet, etoiles_text, expected", [
    ("", None, "Choisissez le sujet"),
    ("inconnu", None, "Choisissez le sujet"),
    ("labellisation", None, "Choisissez l'étoile demandée"),
    ("labellisation", "1", "Choisissez l'étoile demandée"),
    ("labellisation", "9", "Choisissez l'étoile demandée"),
    ("labellisation", "deux", "un nombre de 2 à 5"),
])
def test_bad_input_is_a_clear_refusal(parcours, sujet, etoiles_text, expected):
    editor, _, cid = parcours
    with pytest.raises(InvalidEdit, match=expected):
        audits.send_demande(editor, cid, "eci", sujet, etoiles_text)


def test_no_scores_yet_is_said(parcours, etoiles):
    editor, _, cid = parcours
    etoiles["value"] = EtoilesState("eci", None, 1, None, 0.0, [], False)
    with pytest.raises(InvalidEdit, match="pas encore calculé"):
        audits.send_demande(editor, cid, "eci", "cot", None)


def test_the_whole_parcours_ends_in_a_labellisation(parcours):
    editor, auditeur, cid = parcours
    _document(editor, cid)
    audits.send_demande(editor, cid, "eci", "labellisation", "3")
    with pytest.raises(InvalidEdit, match="déjà en cours"):
        audits.send_demande(editor, cid, "eci", "premiere_etoile", None)
    assert audits.labellisation_page(editor, cid, "eci")["statut"] == "demande_envoyee"

    with pytest.raises(PermissionError, match="réservée à l'auditeur"):
        audits.start_audit(editor, cid, "eci")
    audits.start_audit(_as(auditeur), cid, "eci")
    demande = audits.labellisation_page(auditeur, cid, "eci")["demande"]
    assert demande.statut == "audit_en_cours" and db.session.get(ScoreSnapshot, demande.pre_audit_id).kind == "pre_audit"

    # Members' statuts are locked; the control says why.
    with pytest.raises(InvalidEdit, match="Audit en cours"):
        statuts.set_statut(_as(editor), cid, "eci_1.1.2", "fait")

    row = audits.save_mesure(_as(auditeur), cid, "eci", "eci_1", "audite", "  Conforme.  ", True)
    assert (row.statut, row.avis, row.a_discuter) == ("audite", "Conforme.", True)
    audits.save_mesure(auditeur, cid, "eci", "eci_1", "en_cours", "", False)  # updated, not added
    assert db.session.query(AuditMesure).count() == 1
    with pytest.raises(InvalidEdit, match="mesure inconnue"):
        audits.save_mesure(auditeur, cid, "eci", "eci_1.1", "audite", "", False)  # a sous-action, not a mesure
    with pytest.raises(InvalidEdit, match="Statut d'audit inconnu"):
        audits.save_mesure(auditeur, cid, "eci", "eci_1", "fini", "", False)
    with pytest.raises(InvalidEdit, match="ne doit pas dépasser"):
        audits.save_mesure(auditeur, cid, "eci", "eci_1", "audite", "x" * 5001, False)

    with pytest.raises(InvalidEdit, match="rapport d'audit"):
        audits.validate_audit(auditeur, cid, "eci")
    audits.add_rapport(auditeur, cid, "eci", io.BytesIO(PDF), "rapport.pdf")
    audits.validate_audit(auditeur, cid, "eci")
    with pytest.raises(InvalidEdit, match="pendant l'audit"):
        audits.validate_audit(auditeur, cid, "eci")  # twice: already validated

    page = audits.labellisation_page(editor, cid, "eci")
    assert page["statut"] == "audit_valide" and [s.kind for s in page["snapshots"]] == ["pre_audit", "post_audit"]
    labellisation = db.session.query(Labellisation).one()
    post = page["snapshots"][1]
    assert labellisation.etoiles == 3 and labellisation.demande_id == page["demande"].id
    assert labellisation.score_realise == round(100 * post.point_fait / post.point_potentiel, 1)
    assert page["obtenues"] == 3 and page["labellisations"] == [labellisation]
    statuts.set_statut(_as(editor), cid, "eci_1.1.2", "fait")  # unlocked again

    # A new cycle: the stars obtained are no longer requestable.
    with pytest.raises(InvalidEdit, match="déjà obtenu 3 étoiles"):
        audits.send_demande(editor, cid, "eci", "labellisation", "3")


def test_a_cot_audit_records_no_labellisation(parcours):
    editor, auditeur, cid = parcours
    audits.send_demande(editor, cid, "eci", "cot", "4")  # no document needed; the star sent is ignored
    audits.start_audit(_as(auditeur), cid, "eci")
    audits.add_rapport(auditeur, cid, "eci", io.BytesIO(PDF), "rapport.pdf")
    audits.validate_audit(auditeur, cid, "eci")
    assert db.session.query(Labellisation).count() == 0
    assert audits.labellisation_page(editor, cid, "eci")["demande"].etoiles is None


def test_the_auditeur_of_another_referentiel_or_collectivite_cannot_act(parcours):
    editor, _, cid = parcours
    _document(editor, cid)
    audits.send_demande(editor, cid, "eci", "premiere_etoile", None)
    elsewhere = make_user()
    with system_work():
        audits.add_auditeur(elsewhere.email, str(make_collectivite().id), "eci")
    with pytest.raises(PermissionError):
        audits.start_audit(_as(elsewhere), cid, "eci")


def test_naming_auditeurs_needs_a_platform_administrator(parcours):
    editor, auditeur, cid = parcours
    with pytest.raises(PermissionError):
        audits.name_auditeur(editor, editor.email, str(cid), "eci")
    with system_work():
        admin = audits.set_platform_admin(make_user().email, True)
    act_as(admin)
    with pytest.raises(InvalidEdit, match="déjà auditeur"):
        audits.name_auditeur(admin, auditeur.email, str(cid), "eci")
    for email, collectivite, referentiel, message in [("absent@exemple.fr", str(cid), "eci", "Aucun compte"),
                                                      (editor.email, "abc", "eci", "Collectivité inconnue"),
                                                      (editor.email, str(cid), "zzz", "Référentiel inconnu")]:
        with pytest.raises(InvalidEdit, match=message):
            audits.name_auditeur(admin, email, collectivite, referentiel)
    audits.name_auditeur(admin, editor.email, str(cid), "eci")
    assert len(audits.auditeurs_page()["auditeurs"]) == 2


# Routes ------------------------------------------------------------------------------------------


def _url(cid, tail=""):
    return f"/collectivites/{cid}/referentiels/eci/labellisation{tail}"


def test_pages_and_refusals_over_http(client, parcours):
    editor, auditeur, cid = parcours
    login(client, editor)
    page = client.get(_url(cid)).get_data(as_text=True)
    assert "Conditions pour envoyer une demande" in page and "Document requis manquant" in page
    assert client.get(f"/collectivites/{cid}/labellisation").status_code == 200
    refused = client.post(_url(cid, "/demande"), data={"sujet": "labellisation", "etoiles": "3"})
    assert refused.status_code == 422 and "Document requis manquant" in refused.get_data(as_text=True)
    assert client.post(_url(cid, "/documents"), data={}).status_code == 422  # no file
    assert client.post(_url(cid, "/documents"), data={"fichier": (io.BytesIO(PDF), "acte.pdf")}).status_code == 303
    assert client.post(_url(cid, "/demande"), data={"sujet": "labellisation", "etoiles": "3"}).status_code == 303
    # An audit action by a member who is no auditeur: a clear 403, never a 500.
    forbidden = client.post(_url(cid, "/audit/demarrer"))
    assert forbidden.status_code == 403 and "Action réservée" in forbidden.get_data(as_text=True)
    assert client.get(_url(cid, "/audit")).status_code == 404  # no audit yet

    login(client, auditeur)  # not a member: reads as an auditeur
    assert client.post(_url(cid, "/audit/demarrer")).status_code == 303
    statut = client.post(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1.2/statut", data={"statut": "fait"})
    assert statut.status_code == 403  # not an editor
    saved = client.post(_url(cid, "/audit/mesures/eci_2"), data={"statut": "audite", "avis": PRIVATE, "a_discuter": "1"},
                        headers={"HX-Request": "true"})
    assert saved.status_code == 200 and 'id="audits-mesure-eci-2"' in saved.get_data(as_text=True)
    bad = client.post(_url(cid, "/audit/mesures/eci_2"), data={"statut": "?"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "audit inconnu" in bad.get_data(as_text=True)
    assert client.post(_url(cid, "/audit/mesures/nulle_part"), data={"statut": "audite"}).status_code == 422
    assert client.post(_url(cid, "/audit/valider")).status_code == 422  # no report yet
    assert client.post(_url(cid, "/audit/rapport"), data={"fichier": (io.BytesIO(PDF), "r.pdf")}).status_code == 303
    assert PRIVATE in client.get(_url(cid, "/audit")).get_data(as_text=True)
    filtered = client.get(_url(cid, "/audit?statut=audite&a_discuter=1")).get_data(as_text=True)
    assert 'id="audits-mesure-eci-2"' in filtered and 'id="audits-mesure-eci-1"' not in filtered
    unknown = client.get(_url(cid, "/audit?statut=fini"))
    assert unknown.status_code == 400 and "audit inconnu" in unknown.get_data(as_text=True)
    assert 'id="audits-mesure-eci-1"' in unknown.get_data(as_text=True)  # nothing filtered

    login(client, editor)
    action_page = client.get(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1.2").get_data(as_text=True)
    assert 'id="audit-lock"' in action_page and 'id="statut-eci-1-1-2"' not in action_page
    locked = client.post(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1.2/statut", data={"statut": "fait"},
                         headers={"HX-Request": "true"})
    assert locked.status_code == 422 and "Audit en cours" in locked.get_data(as_text=True)
    assert '<option value="fait" selected>' not in locked.get_data(as_text=True)  # the saved statut, not the one sent

    login(client, auditeur)
    assert client.post(_url(cid, "/audit/valider")).status_code == 303
    public = client.get(f"/annuaire/{cid}").get_data(as_text=True)
    assert "3 étoiles" in public and "Aucune labellisation enregistrée" not in public and PRIVATE not in public
    assert PRIVATE not in client.get(f"/api/v1/collectivites/{cid}").get_data(as_text=True)
    api = client.get(f"/api/v1/collectivites/{cid}").get_json()
    assert api["labellisations"][0]["etoiles"] == 3
    listed = client.get("/api/v1/labellisations").get_json()
    assert listed["items"][0]["id"] == cid and listed["items"][0]["labellisation"]["referentiel"] == "eci"


def test_the_admin_page_is_for_platform_administrators(client, parcours):
    editor, _, cid = parcours
    login(client, editor)
    assert client.get("/admin/auditeurs").status_code == 403
    with system_work():
        audits.set_platform_admin(editor.email, True)
    assert "Nommer un auditeur" in client.get("/admin/auditeurs").get_data(as_text=True)
    refused = client.post("/admin/auditeurs", data={"email": "x@y.fr", "collectivite": "1", "referentiel": "eci"})
    assert refused.status_code == 422 and "Aucun compte" in refused.get_data(as_text=True)
    other = make_user()
    assert client.post("/admin/auditeurs", data={"email": other.email, "collectivite": str(cid),
                                                 "referentiel": "eci"}).status_code == 303
    auditeur_id = audits.auditeurs_page()["auditeurs"][-1][0].id
    assert client.post(f"/admin/auditeurs/{auditeur_id}/retirer").status_code == 303


def test_cli_names_platform_administrators_and_auditeurs(runner, app_context, tiny_content):
    user, collectivite = make_user(), make_collectivite()
    assert "est administrateur" in runner.invoke(args=["audits", "admin", user.email]).output
    result = runner.invoke(args=["audits", "auditeur", user.email, str(collectivite.id), "eci"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["audits", "auditeur", "absent@exemple.fr", str(collectivite.id), "eci"])
    assert result.exit_code == 1 and "Aucun compte" in result.output


def test_history_entries_tell_the_parcours(parcours):
    editor, auditeur, cid = parcours
    audits.send_demande(editor, cid, "eci", "cot", None)
    entries = db.session.query(HistoryEntry).filter_by(kind="labellisation").all()
    assert [json.loads(e.new_value) for e in entries] == [
        "Demande envoyée : Audit COT (contrat d'objectif territorial) sans labellisation"]
