"""The sharing pages in a real browser: the directory's filters swap the results with htmx and put
themselves in the URL; on "Collectivités comme moi" a member compares per axe, narrows to the
région, and follows a better-placed collectivité to its public précision."""
import pytest
from playwright.sync_api import expect

from app.rls import act_as
from app.services import precisions, statuts
from tests.browser.test_live_statut import log_in
from tests.factories import add_member, make_collectivite, make_user
from tests.integration.test_partage import _summary
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def world(tiny_content):
    editor, commune = make_editor()
    statuts.set_statut(editor, commune.id, "eci_1.2.1", "fait")
    run_jobs()
    peers = [make_collectivite(nom=f"Voisine {n}", population=8_000 + n, region_code="84" if n < 4 else "11")
             for n in range(6)]
    for n, peer in enumerate(peers):
        _summary(peer, 20.0 + 10 * n, 50.0 + 5 * n, precisions_publiques=n == 5)
    author = make_user()
    add_member(author, peers[5], "edition")
    act_as(author)
    precisions.set_precision(author, peers[5].id, "eci_2", "Notre **retour d'expérience** sur l'axe 2.")
    return editor, commune, peers


def test_directory_filters_swap_results_and_stay_in_the_url(new_page, world):
    page = new_page()
    page.goto("/annuaire")
    page.select_option("#annuaire-population", "0-20000")
    page.select_option("#annuaire-tri", "score")
    page.click("button:has-text('Filtrer')")
    expect(page.locator("#partage-resultats tbody tr").first).to_contain_text("Voisine 5")
    assert "population=0-20000" in page.url and "tri=score" in page.url


def test_a_member_compares_and_reaches_a_better_placed_collectivite(new_page, world):
    editor, commune, peers = world
    page = new_page()
    log_in(page, editor)
    page.goto(f"/collectivites/{commune.id}/comparaison")
    axes = page.locator("#comparaison-axes")
    expect(axes).to_contain_text("sur 7")  # me and the six peers
    page.click("label[for=comparaison-region]")  # the DSFR label covers the box
    page.click("button:has-text('Comparer')")
    expect(page.locator("body")).to_contain_text("Moins de 5 collectivités comparables")  # four in the région, me included
    page.click("label[for=comparaison-region]")
    page.click("button:has-text('Comparer')")
    leader = page.locator("#comparaison-actions a", has_text="Voisine 5").first
    expect(leader).to_be_visible()
    leader.click()
    expect(page.locator("h1")).to_have_text("Voisine 5")
    expect(page.locator("#precision-eci-2")).to_contain_text("retour d'expérience")
