"""Plans d'action in a real browser: create a plan, an axe and a fiche, edit the fiche in place
(a refused date comes back with its message), move it on the kanban; another member's open fiche
page follows the edits live. A fiche's étapes are added, ticked and moved in place."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Fiche
from app.live import make_hub
from app.rls import act_as
from app.services import plans
from tests.browser.test_live_statut import LIVE_TIMEOUT_MS, log_in, wait_for_socket
from tests.factories import add_member, make_user
from tests.suivi_content import make_editor, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
WS_OPEN = "document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true })"


def test_plan_axe_fiche_edit_and_kanban_move(new_page, tiny_content):
    user, collectivite = make_editor()
    reader = make_user()
    add_member(reader, collectivite, "lecture")
    page = new_page()
    log_in(page, user)

    page.goto(f"/collectivites/{collectivite.id}/plans")
    page.fill("#plan-nom", "Plan climat")
    page.select_option("#plan-type", "Plan Mobilité")
    with page.expect_navigation():
        page.click("text=Créer le plan")
    expect(page.locator("h1")).to_have_text("Plan climat")

    page.fill("#axe-nom", "Bâtiments publics")
    with page.expect_navigation():
        page.click("text=Ajouter l'axe")
    page.click("text=Modifier l'axe 1")
    axe = page.locator("li", has=page.locator("h3", has_text="1. Bâtiments publics"))  # ids differ per backend
    axe.locator("input[name=titre]").fill("Rénover les écoles")
    with page.expect_navigation():
        axe.get_by_role("button", name="Ajouter la fiche").click()
    expect(page.locator("h1")).to_have_text("Rénover les écoles")
    fiche_url = page.url

    watcher = new_page()
    watcher.add_init_script(WS_OPEN)
    log_in(watcher, reader)
    watcher.goto(fiche_url)
    wait_for_socket(watcher)

    page.select_option("#fiche-statut", "En cours")
    with page.expect_response(lambda r: r.url.endswith("/champs/statut")):
        page.get_by_role("button", name="Enregistrer : Statut").click()
    page.fill("#fiche-titre", "Rénover les écoles primaires")
    with page.expect_response(lambda r: r.url.endswith("/champs/titre")):
        page.get_by_role("button", name="Enregistrer : Titre").click()
    expect(watcher.locator("h1")).to_have_text("Rénover les écoles primaires", timeout=LIVE_TIMEOUT_MS)

    page.fill("#fiche-date_debut", "2026-05-01")
    page.fill("#fiche-date_fin", "2026-04-01")
    with page.expect_response(lambda r: r.url.endswith("/champs/date_debut")):
        page.get_by_role("button", name="Enregistrer : Date de début").click()
    with page.expect_response(lambda r: r.url.endswith("/champs/date_fin")) as refused:
        page.get_by_role("button", name="Enregistrer : Date de fin prévisionnelle").click()
    assert refused.value.status == 422
    expect(page.locator("#fiche-date_fin-error")).to_have_text("la date de fin précède la date de début")

    page.goto(f"/collectivites/{collectivite.id}/plans/kanban")
    card = page.locator(".tet-kanban__card", has_text="Rénover les écoles primaires")
    card.locator("select").focus()  # as a person would: a late live refresh then leaves the card alone
    card.locator("select").select_option("Réalisé")
    with page.expect_navigation():
        card.get_by_role("button", name="Déplacer").click()
    expect(page.locator(".tet-kanban__column", has_text="Réalisé (1)")).to_contain_text("Rénover les écoles primaires")
    db.session.expire_all()
    fiche = db.session.query(Fiche).one()
    assert (fiche.statut, fiche.titre) == ("Réalisé", "Rénover les écoles primaires")


def test_etapes_are_added_ticked_and_moved_in_place(app, new_page, tiny_content, monkeypatch):
    # A hub of its own: no push of an earlier test is replayed to this page (a refresh mid-click).
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    user, collectivite = make_editor()
    act_as(user)
    fiche = plans.create_fiche(user, collectivite.id, "Rénover les écoles")
    page = new_page()
    log_in(page, user)
    page.goto(f"/collectivites/{collectivite.id}/plans/fiches/{fiche.id}")
    for titre in ("Diagnostic", "Travaux"):
        page.fill("#etape-nouvelle", titre)
        with page.expect_response(lambda r: r.url.endswith("/etapes")):
            page.get_by_role("button", name="Ajouter l'étape").click()
    with page.expect_response(lambda r: "/etapes/" in r.url):
        page.locator("#plans-etapes label", has_text="Réalisée : étape 1").click()  # saved on change, no button
    expect(page.locator("#plans-etapes")).to_contain_text("1 étape réalisée sur 2")
    with page.expect_response(lambda r: r.url.endswith("/deplacer")):
        page.get_by_role("button", name="Descendre l'étape 1").click()
    expect(page.locator("#plans-etapes li").first.locator("input[name=titre]")).to_have_value("Travaux")
