"""A collectivité's workspace pages: référentiel tree and action pages with statuts and scores, the
statut control (htmx), précisions, personnalisation and history; readers vs editors vs outsiders."""
import re

import pytest

from app.extensions import db
from app.live import collectivite_topic, current_hub, make_hub
from app.queue import current_queue
from app.models import (
    ActionStatut,
    ContentVersion,
    HistoryEntry,
    PersonnalisationRegle,
    Precision,
    Question,
    Reponse,
    ScoreState,
)
from app.services import personnalisation, statuts
from app.persistence import utcnow
from app.rls import act_as
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import run_jobs, tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(tiny_content):
    """The tiny eci référentiel; collectivité A with a reader, an editor; an admin of B."""
    collectivite = make_collectivite()
    users = {}
    for role in ("lecture", "edition"):
        users[role] = make_user()
        add_member(users[role], collectivite, role)
    users["other"] = make_user()
    add_member(users["other"], make_collectivite(), "admin")
    return collectivite.id, users


def tree_url(cid):
    return f"/collectivites/{cid}/referentiels/eci"


def action_url(cid, action_id, suffix=""):
    return f"/collectivites/{cid}/referentiels/eci/actions/{action_id}{suffix}"


def scored_page(client, url) -> str:
    """The page once its scores are stored: a first view enqueues their computation."""
    client.get(url)
    run_jobs()
    return client.get(url).get_data(as_text=True)


def post_statut(client, cid, action_id, statut, **detail):
    return client.post(action_url(cid, action_id, "/statut"), data={"statut": statut, **detail}, headers=HTMX)


# Pages and rights ----------------------------------------------------------------------------------


def test_reader_sees_tree_with_scores_and_live_socket_but_no_control(client, world):
    cid, users = world
    login(client, users["lecture"])
    html = scored_page(client, tree_url(cid))
    assert re.search(rf'ws-connect="/ws/collectivites/{cid}\?referentiel=eci&amp;revision=\d+&amp;role=lecture"', html)  # the page's score revision
    assert 'id="score-eci"' in html  # the référentiel totals
    assert 'id="score-eci-1"' in html and "tet-score-bar" in html
    assert f'href="{action_url(cid, "eci_1")}"' in html  # links stay in the workspace
    assert f'hx-get="{action_url(cid, "eci_1", "/enfants")}"' in html
    children = client.get(action_url(cid, "eci_1.1", "/enfants"), headers=HTMX).get_data(as_text=True)
    assert 'id="statuts-action_statut-eci-1-1-1"' in children
    assert "Non renseigné" in children and "<select" not in children


def test_editor_gets_a_control_on_taches_and_sous_actions_only(client, world):
    cid, users = world
    login(client, users["edition"])
    axes = client.get(tree_url(cid)).get_data(as_text=True)
    assert 'id="statut-eci-1"' not in axes  # an axe takes no statut
    sous_actions = client.get(action_url(cid, "eci_1", "/enfants"), headers=HTMX).get_data(as_text=True)
    assert 'id="statut-eci-1-1"' in sous_actions and 'name="statut"' in sous_actions


@pytest.mark.parametrize("url", ["", "/referentiels/eci", "/referentiels/eci/actions/eci_1.1", "/personnalisation", "/historique"])
def test_pages_refuse_anonymous_and_outsiders(client, world, url):
    cid, users = world
    response = client.get(f"/collectivites/{cid}{url}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")
    login(client, users["other"])
    assert client.get(f"/collectivites/{cid}{url}").status_code == 403


def test_workspace_home_is_the_tableau_de_bord_leading_to_each_referentiel(client, world):
    cid, users = world
    login(client, users["lecture"])
    response = client.get(f"/collectivites/{cid}")
    assert response.status_code == 200
    assert f'href="{tree_url(cid)}"' in response.text


def test_unknown_referentiel_or_action_is_404(client, world):
    cid, users = world
    login(client, users["lecture"])
    assert client.get(f"/collectivites/{cid}/referentiels/nope").status_code == 404
    assert client.get(action_url(cid, "eci_9")).status_code == 404


# Statut control ------------------------------------------------------------------------------------


def test_editor_sets_a_statut_by_htmx_and_the_scores_follow(client, world):
    cid, users = world
    login(client, users["edition"])
    response = post_statut(client, cid, "eci_1.1.1", "fait")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<span id="statuts-action_statut-eci-1-1-1"')
    assert '<option value="fait" selected>' in html
    assert db.session.query(ActionStatut).filter_by(collectivite_id=cid, action_id="eci_1.1.1").one().avancement == "fait"
    assert db.session.query(HistoryEntry).filter_by(collectivite_id=cid, kind="statut").count() == 1
    run_jobs()
    page = client.get(tree_url(cid)).get_data(as_text=True)
    assert re.search(r'id="score-eci".*?5/100 pts', page, re.S)  # 5 of 100 points faits


def test_detaille_must_sum_to_100_and_comes_back_as_typed(client, world):
    cid, users = world
    login(client, users["edition"])
    html = post_statut(client, cid, "eci_1.2.1", "detaille", fait="50", programme="30", pas_fait="10").get_data(as_text=True)
    assert "totaliser 100" in html and 'role="alert"' in html
    assert all(f'value="{v}"' in html for v in ("50", "30", "10"))
    assert db.session.query(ActionStatut).count() == 0
    html = post_statut(client, cid, "eci_1.2.1", "detaille", fait="50", programme="30", pas_fait="20").get_data(as_text=True)
    assert "role=\"alert\"" not in html
    saved = db.session.query(ActionStatut).one()
    assert (saved.avancement, saved.fait, saved.programme, saved.pas_fait) == ("detaille", 0.5, 0.3, 0.2)


def test_choosing_detaille_opens_the_percentages_without_saving(client, world):
    cid, users = world
    login(client, users["edition"])
    post_statut(client, cid, "eci_1.2.1", "programme")
    html = post_statut(client, cid, "eci_1.2.1", "detaille").get_data(as_text=True)
    assert 'name="fait"' in html and 'role="alert"' not in html
    assert re.search(r'name="programme" value="100"', html)  # prefilled from the statut
    assert db.session.query(ActionStatut).one().avancement == "programme"


def test_statut_writes_are_refused_to_readers_and_anonymous(client, world):
    cid, users = world
    assert post_statut(client, cid, "eci_1.1.1", "fait").status_code == 401
    login(client, users["lecture"])
    assert post_statut(client, cid, "eci_1.1.1", "fait").status_code == 403
    assert db.session.query(ActionStatut).count() == 0


def test_reader_sees_the_statut_as_a_badge(client, world):
    cid, users = world
    act_as(users["edition"])
    statuts.set_statut(users["edition"], cid, "eci_1.1.2", "pas_fait")
    login(client, users["lecture"])
    html = client.get(action_url(cid, "eci_1.1.2")).get_data(as_text=True)
    assert re.search(r'id="statuts-action_statut-eci-1-1-2".*?fr-badge--error[^>]*>Pas fait<', html, re.S)


def test_plain_form_post_redirects_to_the_action_page(client, world):
    cid, users = world
    login(client, users["edition"])
    response = client.post(action_url(cid, "eci_1.1.1", "/statut"), data={"statut": "inconnu"})
    assert response.status_code == 303 and response.headers["Location"].endswith(action_url(cid, "eci_1.1.1"))
    assert "statut inconnu" in client.get(response.headers["Location"]).get_data(as_text=True)


# Personnalisation consequences ---------------------------------------------------------------------


def test_desactivated_actions_show_a_badge_and_refuse_statuts(client, world):
    cid, users = world
    act_as(users["edition"])
    personnalisation.set_reponse(users["edition"], cid, "compost", "NON")
    login(client, users["edition"])
    children = client.get(action_url(cid, "eci_2.2", "/enfants"), headers=HTMX).get_data(as_text=True)
    assert "Désactivée" in children and 'id="statut-eci-2-2-1"' not in children
    html = post_statut(client, cid, "eci_2.2.1", "fait").get_data(as_text=True)
    assert "désactivée" in html
    assert db.session.query(ActionStatut).count() == 0


def test_reduced_potentiel_is_shown_on_the_action(client, world):
    cid, users = world
    db.session.add(PersonnalisationRegle(action_id="eci_1.2", kind="reduction", formule="0.5"))
    db.session.add(ContentVersion(id=525252, content_hash="tiny-reduit", source="tests", loaded_at=utcnow()))
    db.session.commit()
    login(client, users["lecture"])
    html = scored_page(client, action_url(cid, "eci_1.2"))
    assert "Potentiel réduit de 30 à 15 points pour toutes les collectivités" in html


def test_a_page_without_scores_only_reads_and_the_push_fills_it(app, client, world, monkeypatch):
    """Reads only read: no score row is written by the page, its re-score is enqueued, and its
    push brings the scores; the page tells its websocket it has none (revision -1)."""
    cid, users = world
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    queue = current_queue()
    held = []  # the page's enqueues, held back: the in-process thread would race the assertion
    login(client, users["lecture"])
    subscription = current_hub().subscribe([collectivite_topic(cid)])
    try:
        with monkeypatch.context() as holding:
            holding.setattr(queue, "enqueue_once", lambda *job: held.append(job))
            html = client.get(tree_url(cid)).get_data(as_text=True)
        assert db.session.get(ScoreState, (cid, "eci")) is None
        assert "revision=-1" in html and 'id="score-eci-1" class="tet-score"><span class="tet-score__none"' in html
        assert any("eci" in job for job in held)
        for job in held:
            queue.enqueue_once(*job)
        run_jobs()
        pushed = subscription.get(timeout=5)
    finally:
        current_hub().unsubscribe(subscription)
    assert '<span id="score-eci-1" class="tet-score" hx-swap-oob="true">' in pushed and "tet-score-bar" in pushed


# Précision -----------------------------------------------------------------------------------------


def test_precision_is_saved_by_htmx_and_rendered_sanitised(client, world):
    cid, users = world
    login(client, users["edition"])
    response = client.post(action_url(cid, "eci_1.1", "/precision"), headers=HTMX,
                           data={"texte": "**Délibération** votée <script>alert(1)</script>"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="suivi-precision"')
    assert "<strong>Délibération</strong>" in html and "<script>" not in html
    assert db.session.query(Precision).one().texte.startswith("**Délibération**")
    login(client, users["lecture"])
    page = client.get(action_url(cid, "eci_1.1")).get_data(as_text=True)
    assert "<strong>Délibération</strong>" in page and 'name="texte"' not in page


def test_precision_tables_render_and_headings_sit_below_the_section_heading(client, world):
    cid, users = world
    login(client, users["edition"])
    texte = "# Bilan\n\n| Site | kWh |\n|---|---|\n| Mairie | 1200 |\n\n![](https://exemple.fr/plan.png)"
    html = client.post(action_url(cid, "eci_1.1", "/precision"), headers=HTMX, data={"texte": texte}).get_data(as_text=True)
    assert '<h2 class="fr-h5">Précision</h2>' in html and "<h3>Bilan</h3>" in html and "<h1>" not in html
    assert "<td>Mairie</td>" in html and "<img" not in html


def test_precision_refused_by_readers(client, world):
    cid, users = world
    login(client, users["lecture"])
    assert client.post(action_url(cid, "eci_1.1", "/precision"), data={"texte": "x"}, headers=HTMX).status_code == 403


# Personnalisation page -----------------------------------------------------------------------------


def test_personnalisation_page_shows_identity_and_completion(client, world):
    cid, users = world
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/personnalisation").get_data(as_text=True)
    assert "Commune" in html and "12\u202f000 habitants" in html and "Métropole" in html
    assert 'id="personnalisation-completion-dechets"' in html and "0 / 1 réponses" in html
    assert re.search(r'<fieldset[^>]*disabled', html)  # readers can't answer


def test_answer_saved_by_htmx_updates_completion_out_of_band(client, world):
    cid, users = world
    login(client, users["edition"])
    html = client.post(f"/collectivites/{cid}/personnalisation/compost", data={"valeur": "NON"}, headers=HTMX).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="personnalisation-question-compost"')
    assert re.search(r'value="NON" checked', html)
    assert re.search(r'id="personnalisation-completion-dechets"[^>]*hx-swap-oob="true">1 / 1', html)
    assert db.session.query(Reponse).one().value == "NON"


def test_proportion_is_typed_as_a_percentage(client, world):
    cid, users = world
    db.session.add(Question(id="part_bio", type="proportion", formulation="Part de bio ?", thematique_id="alimentation"))
    db.session.commit()
    login(client, users["edition"])
    url = f"/collectivites/{cid}/personnalisation/part_bio"
    refused = client.post(url, data={"valeur": "150"}, headers=HTMX).get_data(as_text=True)
    assert "entre 0 et 100" in refused and 'value="150"' in refused
    assert db.session.query(Reponse).count() == 0
    client.post(url, data={"valeur": "40"}, headers=HTMX)
    assert float(db.session.query(Reponse).one().value) == pytest.approx(0.4)


def test_answers_refused_to_readers(client, world):
    cid, users = world
    login(client, users["lecture"])
    assert client.post(f"/collectivites/{cid}/personnalisation/compost", data={"valeur": "NON"}, headers=HTMX).status_code == 403


# CSRF ----------------------------------------------------------------------------------------------


def test_htmx_posts_carry_the_csrf_token_of_the_page(client, world, csrf_enabled):
    cid, users = world
    login(client, users["edition"])
    page = client.get(action_url(cid, "eci_1.1.1")).get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    assert post_statut(client, cid, "eci_1.1.1", "fait").status_code == 400
    response = client.post(action_url(cid, "eci_1.1.1", "/statut"), data={"statut": "fait"},
                           headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200 and db.session.query(ActionStatut).count() == 1


def test_precision_too_deeply_nested_comes_back_with_the_message(client, world):
    cid, users = world
    login(client, users["edition"])
    texte = ">" * 400 + " citation"
    html = client.post(action_url(cid, "eci_1.1", "/precision"), data={"texte": texte}, headers=HTMX).get_data(as_text=True)
    assert "imbrique trop de citations" in html and "&gt;" * 400 + " citation" in html  # kept as typed
    assert db.session.query(Precision).count() == 0


# Search --------------------------------------------------------------------------------------------


def test_search_in_the_workspace_links_to_the_workspace_action_pages(client, world):
    cid, users = world
    login(client, users["lecture"])
    tree = client.get(tree_url(cid)).get_data(as_text=True)
    assert f'hx-get="{tree_url(cid)}/recherche"' in tree
    results = client.get(f"{tree_url(cid)}/recherche", query_string={"q": "1.2"}, headers=HTMX).get_data(as_text=True)
    assert results.lstrip().startswith('<div id="referentiels-search_results"')
    assert f'href="{action_url(cid, "eci_1.2")}"' in results and 'href="/referentiels/' not in results
    page = client.get(f"{tree_url(cid)}/recherche", query_string={"q": "1.2"}).get_data(as_text=True)
    assert f'href="{action_url(cid, "eci_1.2.1")}"' in page and f'action="{tree_url(cid)}/recherche"' in page
    public = client.get("/referentiels/eci/recherche", query_string={"q": "1.2"}, headers=HTMX).get_data(as_text=True)
    assert 'href="/referentiels/eci/actions/eci_1.2"' in public
    login(client, users["other"])
    assert client.get(f"{tree_url(cid)}/recherche?q=1").status_code == 403
