"""The aide à la priorisation and the tableau des mesures of a collectivité: figures equal to the
engine's stored scores, filters in the URL, bad input, rights, the inline statut edit."""
import pytest

from datetime import date

from app.extensions import db
from app.filters import dom_id, format_percent, format_points
from app.models import Action, Precision, PreuveLien, Thematique
from app.persistence import utcnow
from app.rls import act_as
from app.services.scores import scores_for
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import phased_collectivite, run_jobs, tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(tiny_content):
    """The tiny eci référentiel (sous-actions at depth 2) with phases and a thématique; collectivité
    A with a reader and an editor, some statuts, a précision and preuves, its scores stored."""
    collectivite, users = phased_collectivite({"eci_1.1.1": "fait", "eci_1.2": "programme", "eci_2.1": "pas_fait"})
    db.session.add(Thematique(id="dechets", nom="Déchets"))
    db.session.get(Action, "eci_2").thematique_id = "dechets"
    db.session.add(Precision(collectivite_id=collectivite.id, action_id="eci_1.2", texte="Voir le plan",
                             modified_at=utcnow()))
    for titre in ("Plan", "Bilan"):
        db.session.add(PreuveLien(collectivite_id=collectivite.id, action_id="eci_1.2", titre=titre,
                                  url="https://exemple.fr", created_at=utcnow()))
    db.session.commit()
    act_as(None)
    run_jobs()
    return collectivite.id, users


def priorisation_url(cid, query=""):
    return f"/collectivites/{cid}/referentiels/eci/priorisation{query}"


def mesures_url(cid, query=""):
    return f"/collectivites/{cid}/referentiels/eci/mesures{query}"


def restants(record) -> str:
    """Points restants as the page writes them, from a stored record."""
    value = max(0.0, round(record["point_potentiel"] - record["point_fait"] - record["point_programme"], 2))
    return format_points(value)


def row_html(html: str, prefix: str, action_id: str) -> str:
    start = html.index(f'id="{prefix}-row-{dom_id(action_id)}"')
    return html[start:html.index("</tr>", start)]


def test_priorisation_figures_are_the_engines(client, world):
    cid, users = world
    login(client, users["lecture"])
    response = client.get(priorisation_url(cid))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    stored = scores_for(cid, "eci")
    for action_id in ("eci_1.1", "eci_1.2", "eci_2.1"):
        record = stored[action_id]
        cells = row_html(html, "priorisation", action_id)
        assert f">{restants(record)}</td>" in cells
        assert f">{format_percent(record['point_fait'], record['point_potentiel'])}</td>" in cells
        assert f">{format_percent(record['point_programme'], record['point_potentiel'])}</td>" in cells
    # Sorted by points restants, most first: eci_2.1 (pas fait, 20) before eci_1.1 (5 restants).
    assert html.index("priorisation-row-eci-2-1") < html.index("priorisation-row-eci-1-1")
    assert "Déchets" in html and "Mise en œuvre" not in html.split("<caption>")[0]


def test_priorisation_filters_sort_and_matrix_links(client, world):
    cid, users = world
    login(client, users["lecture"])
    html = client.get(priorisation_url(cid, "?phase=bases&tri=referentiel")).get_data(as_text=True)
    table = html.split('id="priorisation-table"')[1]
    assert "priorisation-row-eci-1-1" in table and "priorisation-row-eci-1-2" not in table
    assert table.index("eci-1-1") < table.index("eci-2-0")
    assert 'checked' in html.split('name="phase" value="bases"')[1][:20]
    # A matrix cell links to the table narrowed to its phase and points restants.
    # (the matrix counts every phase whatever the phase filter)
    link = f'href="/collectivites/{cid}/referentiels/eci/priorisation?phase=effets&amp;restants=10%2B&amp;tri=referentiel"'
    assert link in html
    cell = client.get(priorisation_url(cid, "?phase=effets&restants=10%2B"), headers=HTMX).get_data(as_text=True)
    assert cell.strip().startswith('<div id="priorisation-results"') and "<html" not in cell
    assert "priorisation-row-eci-2-1" in cell and "priorisation-row-eci-1-1" not in cell
    actions = client.get(priorisation_url(cid, "?niveau=action&thematique=dechets")).get_data(as_text=True)
    table = actions.split('id="priorisation-table"')[1]
    assert "priorisation-row-eci-2" in table and "priorisation-row-eci-1" not in table


@pytest.mark.parametrize("query, message", [
    ("?couleur=bleu", "Filtre inconnu « couleur » : il est ignoré."),
    ("?phase=demain", "Phase : « demain » inconnue(s), ignorée(s)."),
    ("?tri=hasard", "Tri : « hasard » non reconnue(s)"),
    ("?realise=200", "% réalisé : « 200 » inconnue(s)"),
])
def test_priorisation_bad_filters_say_why(client, world, query, message):
    cid, users = world
    login(client, users["lecture"])
    response = client.get(priorisation_url(cid, query))
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_mesures_rows_figures_and_suivi(client, world):
    cid, users = world
    login(client, users["lecture"])
    html = client.get(mesures_url(cid)).get_data(as_text=True)
    stored = scores_for(cid, "eci")
    for action_id in ("eci_1", "eci_1.1", "eci_1.1.1", "eci_1.2", "eci_2.2.2"):
        row = row_html(html, "mesures", action_id)
        record = stored[action_id]
        assert f'id="score-{dom_id(action_id)}"' in row  # the tree's score slot: the push refreshes it
        assert format_percent(record["point_fait"], record["point_potentiel"]) in row
    plan = row_html(html, "mesures", "eci_1.2")
    assert "<td>Oui</td>" in plan and '<td class="tet-number">2</td>' in plan and "Programmé" in plan
    assert "<select" not in html and "Modifier" not in html  # a reader sees the statuts, no control
    assert "Actions : 2 · Sous-actions : 5 · Tâches : 7" in " ".join(html.split())


def test_mesures_filters(client, world):
    cid, users = world
    login(client, users["lecture"])
    html = client.get(mesures_url(cid, "?statut=fait")).get_data(as_text=True)
    rows = html.split("<tbody>")[1]
    assert "mesures-row-eci-1-1-1" in rows
    assert 'tet-mesure--path" id="mesures-row-eci-1-1"' in html  # the path to a matching row
    assert "mesures-row-eci-2-1" not in rows
    html = client.get(mesures_url(cid, "?non_renseigne=1&axe=2"), headers=HTMX).get_data(as_text=True)
    assert html.strip().startswith('<div id="mesures-table"')
    assert "mesures-row-eci-2-2-1" in html and "mesures-row-eci-1" not in html and "mesures-row-eci-2-1" not in html
    today = date.today().isoformat()
    html = client.get(mesures_url(cid, f"?depuis={today}&thematique=dechets")).get_data(as_text=True)
    assert "mesures-row-eci-2-1" in html and "mesures-row-eci-1-2" not in html
    html = client.get(mesures_url(cid, "?depuis=2999-01-01")).get_data(as_text=True)
    assert "Aucun élément ne correspond à ces filtres." in html


@pytest.mark.parametrize("query, message", [
    ("?depuis=31/03/2025", "Date « 31/03/2025 » invalide pour « modifié depuis » : format attendu AAAA-MM-JJ"),
    ("?statut=termine", "Statut : « termine » inconnue(s)"),
    ("?non_renseigne=oui", "Non renseigné : « oui » non reconnue(s)"),
    ("?thematique=transport", "Thématique : « transport » inconnue(s)"),
])
def test_mesures_bad_filters_say_why(client, world, query, message):
    cid, users = world
    login(client, users["lecture"])
    response = client.get(mesures_url(cid, query))
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_editor_edits_a_statut_in_the_table_and_the_scores_follow(client, world):
    cid, users = world
    login(client, users["edition"])
    html = client.get(mesures_url(cid)).get_data(as_text=True)
    statut_url = f"/collectivites/{cid}/referentiels/eci/actions/eci_2.2.1/statut"
    # A button loads the tree's statut control in place (same id), which posts to its route.
    assert f'hx-get="{statut_url}" hx-target="#statuts-action_statut-eci-2-2-1"' in html
    control = client.get(statut_url, headers=HTMX).get_data(as_text=True)
    assert 'id="statuts-action_statut-eci-2-2-1"' in control and f'hx-post="{statut_url}"' in control
    response = client.post(f"/collectivites/{cid}/referentiels/eci/actions/eci_2.2.1/statut",
                           data={"statut": "fait"}, headers=HTMX)
    assert response.status_code == 200
    run_jobs()
    html = client.get(mesures_url(cid)).get_data(as_text=True)
    record = scores_for(cid, "eci")["eci_2.2.1"]
    assert record["point_fait"] == record["point_potentiel"] > 0
    assert "100 %" in row_html(html, "mesures", "eci_2.2.1")


@pytest.mark.parametrize("url", [priorisation_url, mesures_url])
def test_rights_and_unknown_referentiel(client, world, url):
    cid, users = world
    outsider = make_user()
    add_member(outsider, make_collectivite(), "admin")
    login(client, outsider)
    assert client.get(url(cid)).status_code == 403
    login(client, users["lecture"])
    assert client.get(url(cid).replace("/eci/", "/inconnu/")).status_code == 404
