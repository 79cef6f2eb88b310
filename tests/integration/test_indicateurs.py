"""Indicateurs: loading definitions (CLI), values with bounds, precision, computed figures,
history, personnalisés and confidentiality."""
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from app.models import HistoryEntry, IndicateurDefinition, IndicateurValeur, Reponse
from app.persistence import utcnow
from app.rls import act_as
from app.services import indicateurs
from app.services.indicateurs import ValeurInput
from app.services.suivi import InvalidEdit
from tests.factories import add_member, login, make_collectivite, make_user

CATALOGUE = Path(__file__).resolve().parents[2] / "content" / "indicateurs" / "catalogue.csv"


@pytest.fixture
def world(app_context):
    indicateurs.load_definitions(CATALOGUE)
    collectivite, other = make_collectivite(), make_collectivite()
    users = {role: make_user() for role in ("lecture", "edition", "other")}
    add_member(users["lecture"], collectivite, "lecture")
    add_member(users["edition"], collectivite, "edition")
    add_member(users["other"], other, "admin")
    return collectivite.id, users


def save(user, cid, indicateur_id, annee, **fields):
    act_as(user)
    indicateurs.save_valeur(user, cid, indicateur_id, ValeurInput(str(annee), **fields))


def value(cid, indicateur_id, annee):
    return db.session.scalars(select(IndicateurValeur).where(
        IndicateurValeur.collectivite_id == cid, IndicateurValeur.indicateur_id == indicateur_id,
        IndicateurValeur.annee == annee)).first()


def test_the_cli_loads_the_catalogue(runner, shared_dir, app_context):
    result = runner.invoke(args=["indicateurs", "load-definitions", str(shared_dir / "indicateurs" / "definitions.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "730 définitions"
    result = runner.invoke(args=["indicateurs", "load-definitions",
                                 str(shared_dir / "referentiels/2022/markdown/indicateurs")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "180 définitions"


def test_the_cli_writes_nothing_on_error(runner, tmp_path, app_context):
    bad = tmp_path / "bad.csv"
    bad.write_text(CATALOGUE.read_text(encoding="utf-8").replace("val(cae_2.b)", "val(inconnu)"), encoding="utf-8")
    result = runner.invoke(args=["indicateurs", "load-definitions", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: cae_2.a : la formule utilise un indicateur inconnu inconnu" in result.output
    assert db.session.scalar(select(func.count()).select_from(IndicateurDefinition)) == 0


def test_values_are_rounded_bounded_and_recorded(world):
    cid, users = world
    save(users["edition"], cid, "cae_8", 2020, resultat="12,345", resultat_source="Observatoire",
         objectif="40", objectif_commentaire="PCAET")
    row = value(cid, "cae_8", 2020)
    assert (row.resultat, row.resultat_source, row.objectif, row.objectif_commentaire) == (12.3, "Observatoire", 40, "PCAET")
    with pytest.raises(InvalidEdit, match="au plus 100"):
        save(users["edition"], cid, "cae_8", 2021, resultat="120")
    with pytest.raises(InvalidEdit, match="n'est pas un nombre"):
        save(users["edition"], cid, "cae_8", 2021, resultat="beaucoup")
    with pytest.raises(InvalidEdit, match="année"):
        save(users["edition"], cid, "cae_8", 1800, resultat="1")
    entry = db.session.scalars(select(HistoryEntry).where(HistoryEntry.kind == "indicateur_valeur")).one()
    assert entry.key == "cae_8:2020" and json.loads(entry.new_value)["resultat"] == 12.3


def test_lecture_cannot_write(world):
    cid, users = world
    with pytest.raises(PermissionError):
        save(users["lecture"], cid, "cae_8", 2020, resultat="1")


def test_computed_values_follow_their_inputs(world):
    cid, users = world
    editor = users["edition"]
    save(editor, cid, "cae_2.b", 2022, resultat="10")
    assert value(cid, "cae_2.a", 2022) is None  # cae_2.c is required
    save(editor, cid, "cae_2.c", 2022, resultat="5")
    save(editor, cid, "terr_1", 2022, resultat="30000")
    assert value(cid, "cae_2.a", 2022).resultat == 15
    assert value(cid, "cae_2.e", 2022).resultat == 500  # 15 GWh / 30 000 hab in kWh
    save(editor, cid, "cae_2.d", 2022, resultat="15")
    assert value(cid, "cae_2.a", 2022).calcul_auto and value(cid, "cae_2.e", 2022).resultat == 1000
    with pytest.raises(InvalidEdit, match="calculé"):
        save(editor, cid, "cae_2.a", 2022, resultat="1")


def test_a_changed_formula_recomputes_the_stored_values(world, tmp_path):
    cid, users = world
    save(users["edition"], cid, "cae_2.b", 2022, resultat="10")
    save(users["edition"], cid, "cae_2.c", 2022, resultat="5")
    assert value(cid, "cae_2.a", 2022).resultat == 15
    changed = tmp_path / "catalogue.csv"
    changed.write_text(CATALOGUE.read_text(encoding="utf-8").replace("val(cae_2.b)+val(cae_2.c)", "val(cae_2.b)*val(cae_2.c)"),
                       encoding="utf-8")
    count, problems = indicateurs.load_definitions(changed)
    assert count and not [p for p in problems if not p.warning]
    db.session.expire_all()
    assert value(cid, "cae_2.a", 2022).resultat == 50


def test_personalised_indicateurs(world):
    cid, users = world
    act_as(users["edition"])
    new_id = indicateurs.create_perso(users["edition"], cid, "Arbres plantés", "arbres", ["nature_environnement_air"], "")
    save(users["edition"], cid, new_id, 2021, resultat="250")
    assert value(cid, new_id, 2021).resultat == 250
    assert [i.titre for i in indicateurs.find_indicateurs(cid, [new_id, "cae_8", "nope"])] == [
        "Arbres plantés", "Part des énergies renouvelables dans la consommation"]
    with pytest.raises(InvalidEdit, match="obligatoire"):
        indicateurs.create_perso(users["edition"], cid, "  ", "u", [], "")


def test_confidential_values_are_hidden_from_non_members(world, client):
    cid, users = world
    save(users["edition"], cid, "cae_8", 2020, resultat="87,6", confidentiel=True)
    save(users["edition"], cid, "cae_8", 2019, resultat="55,5")
    db.session.commit()
    login(client, users["other"])
    page = client.get(f"/collectivites/{cid}/indicateurs/cae_8").get_data(as_text=True)
    assert "55,5" in page and "87,6" not in page
    login(client, users["lecture"])
    assert "87,6" in client.get(f"/collectivites/{cid}/indicateurs/cae_8").get_data(as_text=True)


def test_the_chart_draws_the_cible_and_seuil_of_the_collectivite(world, client):
    cid, users = world
    save(users["edition"], cid, "cae_8", 2020, resultat="12")
    db.session.commit()
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/indicateurs/cae_8").get_data(as_text=True)
    # A commune of métropole: "si identite(localisation, DOM) alors 40 sinon 32", seuil 15.
    assert html.count('class="tet-chart__reference') == 2
    assert "Valeur cible : 32 %" in html and "Valeur limite : 15 %" in html
    assert '<th scope="row">Valeur cible</th>' in html  # the table equivalent
    assert "Valeurs cible et limite de démonstration" in html
    assert "tet-chart__reference" not in client.get(f"/collectivites/{cid}/indicateurs/cae_2.b").get_data(as_text=True)


def test_a_cible_reading_the_answers_gets_them(world, client, tmp_path):
    cid, users = world
    changed = tmp_path / "catalogue.csv"
    changed.write_text(CATALOGUE.read_text(encoding="utf-8").replace(
        '"si identite(localisation, DOM) alors 40 sinon 32"', '"si reponse(dev_eco_2, OUI) alors 44 sinon 16"'), encoding="utf-8")
    indicateurs.load_definitions(changed)
    act_as(users["edition"])  # PostgreSQL's row-level security wants a member
    db.session.add(Reponse(collectivite_id=cid, question_id="dev_eco_2", value="OUI", modified_at=utcnow()))
    db.session.commit()
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/indicateurs/cae_8").get_data(as_text=True)
    assert "Valeur cible : 44 %" in html and "Valeur limite : 15 %" in html


# Pages --------------------------------------------------------------------------------------------

HTMX = {"HX-Request": "true"}


def test_the_list_filters_by_the_query_string(world, client):
    cid, users = world
    login(client, users["lecture"])
    page = client.get(f"/collectivites/{cid}/indicateurs?categorie=clef&calcule=oui").get_data(as_text=True)
    assert "Consommation d&#39;énergie finale du territoire" in page and "Population du territoire" not in page
    response = client.get(f"/collectivites/{cid}/indicateurs?valeurs=peut-etre")
    assert response.status_code == 400 and "valeur inconnue : « peut-etre »" in response.get_data(as_text=True)


def test_the_list_is_paginated_and_its_links_keep_the_filters(world, client, monkeypatch):
    cid, users = world
    monkeypatch.setattr(indicateurs, "PAGE_SIZE", 2)
    save(users["edition"], cid, "cae_8", 2019, resultat="55,5")
    save(users["edition"], cid, "cae_8", 2020, objectif="70")  # no résultat: the latest stays 2019's
    db.session.commit()
    login(client, users["lecture"])
    url = f"/collectivites/{cid}/indicateurs"

    def shown(query):
        page = client.get(f"{url}{query}").get_data(as_text=True)
        return re.findall(r"<tr>\s*<td>([^<]+)</td>", page), page

    ids, page = shown("?page=3")
    assert ids == ["cae_2.e", "cae_8"] and "55,5 (2019)" in page and "7 indicateur(s) sur 7" in page
    assert 'aria-current="page" title="Page 3"' in page
    assert f'href="{url}"' in page and f'href="{url}?page=4"' in page  # page 1 has no page number
    ids, page = shown("?valeurs=sans&page=2")
    assert ids == ["cae_2.c", "cae_2.d"] and "6 indicateur(s) sur 7" in page
    assert f'href="{url}?valeurs=sans&amp;page=3"' in page
    ids, page = shown("?valeurs=avec")
    assert ids == ["cae_8"] and "55,5 (2019)" in page and "fr-pagination" not in page
    assert f'<a href="{url}/cae_8">' in page
    assert shown("?page=99")[0] == ["terr_1"] and shown("?page=abc")[0] == ["cae_2.a", "cae_2.b"]
    ids, page = shown("?thematique=agri_alim")
    assert ids == [] and "Aucun indicateur ne correspond à ces filtres." in page and "0 indicateur(s) sur 7" in page


def test_an_indicateur_page_links_its_parents_and_children(world, client):
    cid, users = world
    login(client, users["lecture"])
    url = f"/collectivites/{cid}/indicateurs"
    family = re.compile(r'<li>(Parent : )?<a href="[^"]*/indicateurs/([^"]+)">')
    assert family.findall(client.get(f"{url}/cae_2.a").get_data(as_text=True)) == [
        ("", "cae_2.b"), ("", "cae_2.c"), ("", "cae_2.d")]
    assert family.findall(client.get(f"{url}/cae_2.b").get_data(as_text=True)) == [("Parent : ", "cae_2.a")]
    assert "<li>Aucun.</li>" in client.get(f"{url}/terr_1").get_data(as_text=True)


def test_a_value_is_typed_inline_and_a_refusal_rerenders(world, client):
    cid, users = world
    login(client, users["edition"])
    url = f"/collectivites/{cid}/indicateurs/cae_8/valeurs"
    response = client.post(url, data={"annee": "2021", "resultat": "150"}, headers=HTMX)
    assert response.status_code == 422
    assert "la valeur doit être au plus 100" in response.get_data(as_text=True)
    response = client.post(url, data={"annee": "2021", "resultat": "42,5"}, headers=HTMX)
    assert response.status_code == 200 and "42,5" in response.get_data(as_text=True)
    login(client, users["lecture"])
    assert client.post(url, data={"annee": "2021", "resultat": "1"}, headers=HTMX).status_code == 403


def test_a_personalised_indicateur_is_created_from_the_list(world, client):
    cid, users = world
    login(client, users["edition"])
    response = client.post(f"/collectivites/{cid}/indicateurs/nouveau", data={"titre": "Vélos", "unite": "vélos"})
    assert response.status_code == 303
    assert "Vélos" in client.get(response.headers["Location"]).get_data(as_text=True)


# Import / export -----------------------------------------------------------------------------------


def stored(cid):
    return sorted((v.indicateur_id, v.annee, v.resultat, v.objectif, v.resultat_commentaire, v.calcul_auto)
                  for v in db.session.scalars(select(IndicateurValeur).where(IndicateurValeur.collectivite_id == cid)))


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_values_round_trip_through_export_and_import(world, client, file_format):
    cid, users = world
    editor = users["edition"]
    for annee, (b, c) in {2020: ("10,5", "4"), 2021: ("11", "3,25")}.items():
        save(editor, cid, "cae_2.b", annee, resultat=b, objectif="9", resultat_commentaire="gardé")
        save(editor, cid, "cae_2.c", annee, resultat=c)
    save(editor, cid, "cae_8", 2030, objectif="60")
    db.session.commit()
    before = stored(cid)
    login(client, editor)
    data = client.get(f"/collectivites/{cid}/indicateurs/export.{file_format}").data
    grid = indicateurs.read_grid(data, f"x.{file_format}")
    assert grid[0][:5] == ["Identifiant", "Indicateur", "Unité", "2020 Résultat", "2020 Objectif"]
    preview = indicateurs.preview_import(cid, grid)
    assert (preview.changes, preview.errors) == ([], [])
    act_as(editor)
    indicateurs.import_values(editor, cid, grid)
    assert stored(cid) == before


def test_an_import_previews_then_writes_only_without_errors(world, client):
    cid, users = world
    editor = users["edition"]
    login(client, editor)
    good = "Identifiant;Indicateur;Unité;2021 Résultat;2021 Objectif\r\ncae_2.b;x;GWh;12,5;\r\ncae_2.c;x;GWh;2;\r\n"
    bad = good + "cae_8;x;%;150;\r\ninconnu;x;u;1;\r\ncae_2.a;x;GWh;99;\r\n"
    response = client.post(f"/collectivites/{cid}/indicateurs/import", data={"fichier": (io.BytesIO(bad.encode()), "v.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("ligne 4 : cae_8 : 2021 Résultat : la valeur doit être au plus 100", "ligne 5 : indicateur inconnu inconnu",
                    "ligne 6 : cae_2.a : 2021 Résultat : indicateur calculé"):
        assert message in page
    assert stored(cid) == []
    response = client.post(f"/collectivites/{cid}/indicateurs/import", data={"fichier": (io.BytesIO(good.encode()), "v.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "Confirmer l'import" in response.get_data(as_text=True)
    assert stored(cid) == []
    contenu = re.search(r'name="contenu" value="([^"]+)"', response.get_data(as_text=True))[1]
    assert client.post(f"/collectivites/{cid}/indicateurs/import/confirmer", data={"contenu": contenu, "nom": "v.csv"}).status_code == 303
    assert [(i, a, r) for i, a, r, *_ in stored(cid)] == [("cae_2.a", 2021, 14.5), ("cae_2.b", 2021, 12.5), ("cae_2.c", 2021, 2)]
    assert db.session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.kind == "indicateur_valeur")) == 2


def test_import_headers_tolerate_empty_columns_but_not_twice_the_same(world):
    cid, _users = world
    header = ["Identifiant", "Indicateur", "Unité", "2021 Résultat"]
    assert indicateurs.preview_import(cid, [header + [None, ""], ["cae_2.b", "x", "GWh", 3]]).errors == []
    assert indicateurs.preview_import(cid, [header + ["2021 Résultat"], ["cae_2.b", "x", "GWh", 3, 4]]).errors == [
        "ligne 1 : la colonne « 2021 Résultat » figure deux fois"]


@pytest.mark.postgres
@pytest.mark.parametrize("role, refused", [("lecture", True), ("other", True), ("edition", False)])
def test_postgresql_checks_value_writes_itself(world, role, refused):
    cid, users = world
    act_as(users[role])
    row = {"collectivite_id": cid, "indicateur_id": "cae_8", "annee": 2020, "resultat": 1.0, "resultat_commentaire": "",
           "resultat_source": "", "objectif_commentaire": "", "objectif_source": "", "confidentiel": False,
           "calcul_auto": False}
    if refused:
        with pytest.raises(ProgrammingError, match="row-level security"):
            db.session.execute(insert(IndicateurValeur), [row])
            db.session.commit()
        db.session.rollback()
    else:
        db.session.execute(insert(IndicateurValeur), [row])
        db.session.commit()
        assert value(cid, "cae_8", 2020).resultat == 1
