"""Référentiel browsing: list, lazy tree fragments, action page, search, fragment-vs-page choice."""
import re

import pytest

from app.extensions import db
from app.models.content import (
    Action,
    Indicateur,
    IndicateurAction,
    PersonnalisationRegle,
    Preuve,
    PreuveAction,
    Question,
    QuestionAction,
    Referentiel,
)
from app.services import referentiels as service

HTMX = {"HX-Request": "true"}


def _action(action_id, parent_id, nom, points, position=1, **fields):
    identifiant = action_id.partition("_")[2]
    return Action(
        id=action_id,
        referentiel_id="cae",
        parent_id=parent_id,
        identifiant=identifiant,
        nom=nom,
        depth=len(identifiant.split(".")) if identifiant else 0,
        position=position,
        points=points,
        **fields,
    )


@pytest.fixture
def tiny_cae(app_context):
    db.session.add(Referentiel(id="cae", nom="Climat Air Énergie", action_level=3, points=20))
    db.session.flush()  # actions reference it by foreign key
    db.session.add_all(
        [
            _action("cae", None, "Climat Air Énergie", 20),
            _action("cae_1", "cae", "Planification territoriale", 20),
            _action("cae_1.1", "cae_1", "Stratégie globale", 20),
            _action(
                "cae_1.1.1", "cae_1.1", "Définir la stratégie énergétique", 12,
                description="<p>La collectivité <strong>définit</strong> sa vision.</p>",
                contexte="<p>Contexte réglementaire.</p>",
            ),
            _action("cae_1.1.2", "cae_1.1", "Suivre les consommations", 8, position=2),
            _action("cae_1.1.1.1", "cae_1.1.1", "Élaborer un diagnostic", 6, categorie="bases"),
            _action("cae_1.1.1.2", "cae_1.1.1", "Action retirée", 6, position=2, archived=True),
            _action("cae_1.1.1.1.1", "cae_1.1.1.1", "Recenser les données", 6),
            Indicateur(id="cae_1.a", groupe="cae", identifiant="1.a", nom="Émissions de GES", unite="teq CO2"),
            IndicateurAction(indicateur_id="cae_1.a", action_id="cae_1.1.1"),
            Question(id="habitants", type="proportion", formulation="Part des habitants concernés ?", thematique_id="energie"),
            QuestionAction(question_id="habitants", action_id="cae_1.1.1"),
            Preuve(id="cae_1.1.1_pcaet", nom="Délibération du PCAET"),
            PreuveAction(preuve_id="cae_1.1.1_pcaet", action_id="cae_1.1.1"),
            PersonnalisationRegle(action_id="cae_1.1.1", kind="reduction", formule="max(reponse(habitants), 0.5)"),
        ]
    )
    db.session.commit()


def test_list_shows_loaded_referentiels(client, tiny_cae):
    page = client.get("/referentiels").get_data(as_text=True)
    assert "Climat Air Énergie" in page
    assert 'href="/referentiels/cae"' in page


def test_tree_page_shows_axes_with_points_and_lazy_children(client, tiny_cae):
    response = client.get("/referentiels/cae")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="referentiels-node-cae-1"' in page
    assert "Planification territoriale" in page and "20 pts" in page
    assert 'hx-get="/referentiels/cae/actions/cae_1/enfants"' in page
    assert "Stratégie globale" not in page  # deeper levels come on demand
    assert 'id="score-cae-1"' in page  # score slot, empty until scores exist


def test_children_fragment_for_htmx(client, tiny_cae):
    response = client.get("/referentiels/cae/actions/cae_1.1/enfants", headers=HTMX)
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<ul id="referentiels-children-cae-1-1"')
    assert fragment.index("Définir la stratégie") < fragment.index("Suivre les consommations")
    assert "HX-Request" in response.headers["Vary"]


def test_children_without_htmx_redirect_to_the_action_page(client, tiny_cae):
    response = client.get("/referentiels/cae/actions/cae_1.1/enfants")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/referentiels/cae/actions/cae_1.1")


def test_leaf_rows_have_nothing_to_expand(client, tiny_cae):
    fragment = client.get("/referentiels/cae/actions/cae_1.1/enfants", headers=HTMX).get_data(as_text=True)
    leaf_row = fragment[fragment.index('id="referentiels-node-cae-1-1-2"'):]
    assert "hx-get" not in leaf_row


def test_action_page(client, tiny_cae):
    page = client.get("/referentiels/cae/actions/cae_1.1.1").get_data(as_text=True)
    assert "Définir la stratégie énergétique" in page
    assert "12 points" in page
    assert "<strong>définit</strong>" in page and "Contexte réglementaire." in page
    assert "Élaborer un diagnostic" in page and "Action retirée" not in page
    assert "Émissions de GES" in page and "Part des habitants concernés ?" in page
    assert "max(reponse(habitants), 0.5)" in page and "Délibération du PCAET" in page
    breadcrumb = page[page.index('class="fr-breadcrumb__list"'):page.index("</ol>")]
    assert re.findall(r">([^<>]+)</a>", breadcrumb) == [
        "Accueil", "Référentiels", "Climat Air Énergie", "1 Planification territoriale",
        "1.1 Stratégie globale", "1.1.1 Définir la stratégie énergétique",
    ]


@pytest.mark.parametrize(
    "url",
    ["/referentiels/eci", "/referentiels/cae/actions/cae_9", "/referentiels/cae/actions/cae_1.1.1.2", "/referentiels/eci/recherche?q=x"],
)
def test_unknown_or_archived_is_404(client, tiny_cae, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page non trouvée" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    ["/referentiels/cae", "/referentiels/cae/actions/cae_1.1.1", "/referentiels/cae/actions/cae_1/enfants",
     "/referentiels/cae/recherche?q=1"],
)
def test_archived_referentiel_is_hidden(client, tiny_cae, url):
    db.session.get(Referentiel, "cae").archived = True
    db.session.commit()
    assert client.get(url, headers=HTMX).status_code == 404
    assert 'href="/referentiels/cae"' not in client.get("/referentiels").get_data(as_text=True)


def test_breadcrumbs_are_built_by_the_service(app, tiny_cae):
    with app.test_request_context():
        detail = service.action_detail("cae", "cae_1.1")
        assert service.action_crumbs(detail, "workspace", {"collectivite_id": 7}) == [
            ("Climat Air Énergie", "/collectivites/7/referentiels/cae"),
            ("1 Planification territoriale", "/collectivites/7/referentiels/cae/actions/cae_1"),
            ("1.1 Stratégie globale", None),
        ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("1.1.1", ["cae_1.1.1", "cae_1.1.1.1", "cae_1.1.1.1.1"]),
        ("energetique strategie", ["cae_1.1.1"]),
        ("DIAGNOSTIC", ["cae_1.1.1.1"]),
        ("retirée", []),
        ("   ", []),
    ],
)
def test_search_by_identifiant_or_title_words(client, tiny_cae, query, expected):
    fragment = client.get("/referentiels/cae/recherche", query_string={"q": query}, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="referentiels-search_results"')
    assert re.findall(r'href="/referentiels/cae/actions/([^"]+)"', fragment) == expected


def test_search_without_htmx_is_a_full_page(client, tiny_cae):
    response = client.get("/referentiels/cae/recherche?q=diagnostic")
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>") and "Élaborer un diagnostic" in page
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_full_page(client, tiny_cae):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    page = client.get("/referentiels/cae/recherche?q=diagnostic", headers=headers).get_data(as_text=True)
    assert page.startswith("<!doctype html>")


def test_every_hx_url_of_the_pages_resolves(client, tiny_cae):
    pages = [client.get(url).get_data(as_text=True) for url in ("/referentiels/cae", "/referentiels/cae/actions/cae_1.1.1")]
    urls = {url for page in pages for url in re.findall(r'hx-get="([^"]+)"', page)}
    assert urls
    for url in urls:
        assert client.get(url, headers=HTMX).status_code == 200, url


def test_score_slot_renders_a_given_score(app, tiny_cae):
    with app.test_request_context():
        html = app.jinja_env.get_template("fragments/scores/_action_score.html").render(
            action_id="cae_1.1.1", score={"point_fait": 6, "point_programme": 3, "point_potentiel": 12}
        )
    assert html.lstrip().startswith('<span id="score-cae-1-1-1"')
    assert "50 %" in html and "25 % prog." in html and "6/12 pts" in html


def test_base_shell(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr"' in page
    assert 'href="#content"' in page and '<main id="content" role="main"' in page
    assert "République<br>Française" in page and "Territoires en Transitions" in page
    assert "vendor/htmx/htmx.min.js" in page and "vendor/htmx-ext-ws/ws.min.js" in page
    assert '<meta name="csrf-token"' in page and "X-CSRFToken" in page


def test_unknown_page_is_a_dsfr_404(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page non trouvée" in response.get_data(as_text=True)
