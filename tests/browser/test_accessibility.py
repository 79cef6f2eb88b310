"""axe-core over the main pages, each as the user who sees it: no WCAG 2.1 A/AA violation.

axe-core comes from npm (package.json, `npm ci` by `make test`). It is injected through the DevTools
protocol (page.evaluate), which a strict Content-Security-Policy does not block.
"""
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Question
from app.services import indicateurs, personnalisation, plans, precisions, snapshots, statuts
from app.rls import act_as
from tests.browser.test_live_statut import log_in
from tests.factories import add_member, make_collectivite, make_user

pytestmark = pytest.mark.browser

AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CATALOGUE = Path(__file__).resolve().parents[2] / "content/indicateurs/catalogue.csv"
PRECISION = "# Bilan\n\n| Site | kWh |\n|---|---|\n| Mairie | 1200 |\n\nVoir le [rapport](https://exemple.fr)."


def axe_violations(page) -> list[str]:
    """One line per violation and element: rule, impact, CSS target, help."""
    if not AXE_SOURCE.exists():
        pytest.fail(f"{AXE_SOURCE} is missing: run `npm ci` at the top of the repository (make test does)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS
    )
    return [
        f"{violation['id']} ({violation['impact']}) {json.dumps(node['target'])}: {violation['help']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


@pytest.fixture
def workspace_world(app, corpus_2025):
    """A collectivité on the 2025 référentiels, its admin (who wrote a statut, a précision and an
    answer: the history has entries) and a second collectivité to browse in the directory."""
    with app.app_context():
        admin = make_user(name="Camille Admin")
        collectivite = make_collectivite(nom="Ville-Accessible")
        add_member(admin, collectivite, "admin")
        add_member(make_user(name="Dominique Lecteur"), collectivite, "lecture")
        make_collectivite(nom="Bourg-Voisin")
        act_as(admin)
        statuts.set_statut(admin, collectivite.id, "cae_1.1.1.1", "fait")
        precisions.set_precision(admin, collectivite.id, "cae_1.1.1", PRECISION)
        question = db.session.scalars(select(Question).where(Question.type == "binaire").order_by(Question.id)).first()
        personnalisation.set_reponse(admin, collectivite.id, question.id, "OUI")
        indicateurs.load_definitions(CATALOGUE)
        for annee, valeur in ((2019, "3,5"), (2021, "8")):
            indicateurs.save_valeur(admin, collectivite.id, "cae_8", indicateurs.ValeurInput(str(annee), valeur, objectif="20"))
        snapshot = snapshots.freeze(admin, collectivite.id, "cae", "Bilan annuel")
        plan = plans.create_plan(admin, collectivite.id, "Plan climat", plans.PLAN_TYPES[3])
        axe = plans.add_axe(admin, collectivite.id, plan, None, "Bâtiments")
        fiche = plans.create_fiche(admin, collectivite.id, "Rénover les écoles", axe)
        plans.link_action(admin, collectivite.id, fiche, "cae_1.1.1")
        plans.set_budget(admin, collectivite.id, fiche, "investissement", "2026", "12000")
        plans.add_note(admin, collectivite.id, fiche, "", "Étude lancée")
        plans.link_indicateur(admin, collectivite.id, fiche, "cae_8")
        for titre in ("Diagnostic", "Travaux"):
            plans.add_etape(admin, collectivite.id, fiche, titre)
        return SimpleNamespace(email=admin.email, snapshot_id=snapshot.id, plan_id=plan.id, axe_id=axe.id,
                               fiche_id=fiche.id), collectivite.id


def test_main_pages_have_no_axe_violation(new_page, workspace_world):
    admin, cid = workspace_world
    visitor, member = new_page(), new_page()
    log_in(member, admin)
    workspace = f"/collectivites/{cid}"
    pages = [
        (visitor, "/"),
        (visitor, "/referentiels"),
        (visitor, "/referentiels/cae"),
        (visitor, "/referentiels/cae/actions/cae_1.1.1"),
        (visitor, "/referentiels/cae/recherche?q=climat"),
        (visitor, "/connexion"),
        (visitor, "/inscription"),
        (visitor, "/collectivites?q=ville"),
        (member, "/preview?fichier=referentiels/cae/1.1.1.md"),
        (member, f"{workspace}/referentiels/cae"),
        (member, f"{workspace}/referentiels/cae/actions/cae_1.1.1"),
        (member, workspace),  # the collectivité's home page
        (member, f"{workspace}/referentiels/cae/tableau-de-bord"),
        (member, f"{workspace}/referentiels/cae/evolution"),
        (member, f"{workspace}/referentiels/cae/evolution?du=hier&au=2999-01-01"),  # the dates' messages
        (member, f"{workspace}/referentiels/cae/priorisation"),
        (member, f"{workspace}/referentiels/cae/priorisation?phase=bases&couleur=bleu"),
        (member, f"{workspace}/referentiels/cae/mesures?axe=1&depuis=hier"),
        (member, f"{workspace}/personnalisation"),
        (member, f"{workspace}/historique"),
        (member, f"{workspace}/indicateurs?categorie=clef"),
        (member, f"{workspace}/indicateurs/cae_8"),
        (member, f"{workspace}/indicateurs/cae_2.a"),
        (member, f"{workspace}/indicateurs/import"),
        (member, f"{workspace}/membres"),
        (member, f"{workspace}/referentiels/cae/etats-des-lieux"),
        (member, f"{workspace}/referentiels/cae/etats-des-lieux/{admin.snapshot_id}"),
        (member, f"{workspace}/referentiels/cae/etats-des-lieux/comparer?a={admin.snapshot_id}&b=maintenant"),
        (member, f"{workspace}/partage"),
        (member, f"{workspace}/labellisation"),
        (member, f"{workspace}/referentiels/cae/labellisation"),
        (member, f"{workspace}/comparaison"),
        (visitor, "/annuaire?tri=score"),
        (visitor, "/annuaire?type=martien&page=0"),  # the filters' error messages
        (visitor, f"/annuaire/{cid}"),
        (visitor, "/statistiques"),
        (visitor, "/donnees-ouvertes"),
        (member, f"{workspace}/plans"),
        (member, f"{workspace}/plans/{admin.plan_id}"),
        (member, f"{workspace}/plans/fiches/{admin.fiche_id}"),
        (member, f"{workspace}/plans/fiches?statut=%C3%80%20venir"),
        (member, f"{workspace}/plans/kanban"),
        (member, f"{workspace}/plans/import"),
        (member, f"{workspace}/plans/axes/{admin.axe_id}/supprimer"),
        (member, f"{workspace}/etoiles"),
        (member, f"{workspace}/referentiels/cae/etoiles"),
        (member, f"{workspace}/referentiels/cae/etoiles/chemin"),
        (member, f"{workspace}/referentiels/cae/etoiles/simulation?chemin=1"),
    ]
    problems = []
    for page, path in pages:
        page.goto(path, timeout=30_000)  # a loaded CI box serves some of these 40 pages slowly
        if re.search(r"/referentiels/cae$", path):  # a tree: with an axe and a sous-axe expanded
            for node in ("cae-1", "cae-1-1"):
                page.locator(f"#referentiels-node-{node} > .tet-tree__row > .tet-tree__toggle").click()
                expect(page.locator(f"#referentiels-region-{node} .tet-tree__node").first).to_be_visible()
        problems += [f"{path}: {line}" for line in axe_violations(page)]
    assert not problems, f"{len(problems)} axe-core violation(s):\n" + "\n".join(problems)
