"""In a real browser: a collectivité sends a demande de labellisation (the conditions it misses
first, then its document), the auditeur starts the audit, records a mesure, uploads the report and
validates; the star shows in the history and on the public page. Every page passes axe-core."""
import re

import pytest
from playwright.sync_api import expect

from app.rls import system_work
from app.services import audits, statuts
from app.services.labellisation import Critere, EtoilesState
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_live_statut import LIVE_TIMEOUT_MS, log_in
from tests.factories import make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
REACHED_3 = EtoilesState("eci", 3, 4, 55.0, 65.0, [Critere(1, "eci_1", "Engager", True, "")], False)


def _no_violation(page):
    assert axe_violations(page) == []


def _submit(page, button: str):
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def test_demande_audit_labellisation(new_page, tiny_content, monkeypatch, tmp_path):
    monkeypatch.setattr(audits, "etoiles_of", lambda collectivite_id, referentiel_id: REACHED_3)
    editor, collectivite = make_editor()
    statuts.set_statut(editor, collectivite.id, "eci_1.1.1", "fait")
    run_jobs()
    auditeur = make_user(name="Alix Auditrice")
    with system_work():
        audits.add_auditeur(auditeur.email, str(collectivite.id), "eci")
    document = tmp_path / "engagement.pdf"
    document.write_bytes(PDF)
    url = f"/collectivites/{collectivite.id}/referentiels/eci/labellisation"

    member = new_page()
    member.set_default_timeout(LIVE_TIMEOUT_MS)
    log_in(member, editor)
    member.goto(f"/collectivites/{collectivite.id}/referentiels/eci")
    member.get_by_role("link", name="Labellisation").first.click()
    expect(member.locator("h1")).to_contain_text("Labellisation")
    member.get_by_role("link", name=re.compile("Économie circulaire")).last.click()
    expect(member.locator("#labellisation-statut")).to_have_text("Non demandée")
    _no_violation(member)
    member.check("#sujet-labellisation")
    member.select_option("#demande-etoiles", "3")
    _submit(member, "Envoyer la demande")
    expect(member.locator("#labellisation-erreur")).to_contain_text("Document requis manquant")
    member.set_input_files("#labellisation-document", str(document))
    _submit(member, "Déposer le document")
    expect(member.get_by_role("status").first).to_contain_text("Document déposé.")
    member.check("#sujet-labellisation")
    member.select_option("#demande-etoiles", "3")
    _submit(member, "Envoyer la demande")
    expect(member.locator("#labellisation-statut")).to_have_text("Demande envoyée")

    auditor = new_page()
    auditor.set_default_timeout(LIVE_TIMEOUT_MS)
    log_in(auditor, auditeur)
    auditor.goto(url)
    _submit(auditor, "Démarrer l'audit")
    expect(auditor.locator("#labellisation-statut")).to_have_text("Audit en cours")
    _no_violation(auditor)
    row = auditor.locator("#audits-mesure-eci-1")
    row.get_by_label("Statut d'audit de 1").select_option("audite")
    row.get_by_label("Avis sur 1").fill("Équipe projet en place.")
    row.get_by_text("À discuter en séance").click()
    with auditor.expect_response(re.compile(r"/audit/mesures/eci_1$")):
        row.get_by_role("button", name="Enregistrer 1").click()
    expect(auditor.locator("#audits-mesure-eci-1")).to_contain_text("Enregistré.")
    auditor.get_by_text("À discuter en séance seulement").click()
    _submit(auditor, "Filtrer")
    expect(auditor.locator("tbody tr")).to_have_count(1)
    _no_violation(auditor)

    # Meanwhile the members' statuts are locked.
    member.goto(f"/collectivites/{collectivite.id}/referentiels/eci/actions/eci_1.1.2")
    expect(member.locator("#audit-lock")).to_contain_text("Audit en cours")
    expect(member.locator("#statut-eci-1-1-2")).to_have_count(0)

    _submit(auditor, "Valider l'audit")
    expect(auditor.locator("#audit-erreur")).to_contain_text("Déposez le rapport d'audit")
    auditor.set_input_files("#audit-rapport", str(document))
    _submit(auditor, "Déposer le rapport")
    _submit(auditor, "Valider l'audit")
    expect(auditor.locator("#labellisation-statut")).to_have_text("Audit validé")
    expect(auditor.locator("#audits-labellisations")).to_contain_text("3 étoiles")
    expect(auditor.get_by_role("link", name=re.compile("Scores figés : Avant audit"))).to_be_visible()

    visitor = new_page()
    visitor.goto(f"/annuaire/{collectivite.id}")
    expect(visitor.locator("#audits-labellisations")).to_contain_text("3 étoiles")


def test_the_platform_administrators_page(new_page, tiny_content):
    editor, collectivite = make_editor()
    with system_work():
        audits.set_platform_admin(editor.email, True)
    other = make_user(name="Sacha Auditeur")
    page = new_page()
    log_in(page, editor)
    page.goto("/admin/auditeurs")
    page.fill("#auditeur-email", other.email)
    page.fill("#auditeur-collectivite", str(collectivite.id))
    _submit(page, "Nommer l'auditeur")
    expect(page.get_by_role("table")).to_contain_text("Sacha Auditeur")
    _no_violation(page)
    page.fill("#auditeur-email", "personne@nulle-part.fr")
    page.fill("#auditeur-collectivite", str(collectivite.id))
    _submit(page, "Nommer l'auditeur")
    expect(page.locator("#auditeur-erreur")).to_contain_text("Aucun compte")
    _no_violation(page)
