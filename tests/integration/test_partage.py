"""Sharing: the score summaries every re-score writes, the public directory's filters, sorting and
paging (bad input: a French message, never a 500), and the public page, which shows statuts and
précisions only when the collectivité's admins opted in."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from app.models import ScoreSummary
from app.rls import act_as
from app.services import labellisation, partage, precisions, statuts
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

PRIVATE_PRECISION = "MARQUEUR-PRECISION-PRIVEE"


@pytest.fixture
def scored(tiny_content):
    """A commune at 50 % réalisé on eci (3 étoiles: eci_1.1.2, the only first-étoile criterion of
    the tiny référentiel, is done) with a précision, its admin and its editor."""
    editor, commune = make_editor()
    for action_id in ("eci_1.1.1", "eci_1.1.2", "eci_2.1", "eci_2.2.1"):
        statuts.set_statut(editor, commune.id, action_id, "fait")
    precisions.set_precision(editor, commune.id, "eci_1.2.1", PRIVATE_PRECISION)
    run_jobs()
    admin = make_user()
    add_member(admin, commune, "admin")
    return commune, editor, admin


def test_a_rescore_stores_the_summary_per_referentiel_and_axe(scored):
    commune, *_ = scored
    summary = db.session.scalars(select(ScoreSummary).where(ScoreSummary.collectivite_id == commune.id)).one()
    assert (summary.referentiel_id, summary.realise, summary.programme, summary.etoiles) == ("eci", 50.0, 0.0, 3)
    assert summary.axes == {"eci_1": [25.0, 0.0], "eci_2": [66.7, 0.0]}
    assert summary.actions == {"eci_1": 25.0, "eci_2": 66.7}  # the tiny référentiel's action level is 1


def _names(client, query: str, status: int = 200) -> list[str]:
    response = client.get(f"/annuaire?{query}")
    assert response.status_code == status, response.text
    return [row.collectivite.nom for row in partage.directory_page(_args(query))["rows"]]


def _args(query: str):
    from werkzeug.datastructures import MultiDict
    from urllib.parse import parse_qsl

    return MultiDict(parse_qsl(query))


def test_directory_filters_sort_and_page(client, scored):
    commune, *_ = scored
    make_collectivite(nom="Grande Ville", population=250_000, region_code="11", departement_code="75")
    make_collectivite(nom="Petit Bourg", population=900)
    make_collectivite(kind="EPCI", nature="CA", nom="Agglo du Lac", population=60_000, code="200000001")
    assert _names(client, "type=CA") == ["Agglo du Lac"]
    assert _names(client, "region=11") == ["Grande Ville"]
    assert _names(client, "departement=75") == ["Grande Ville"]
    assert _names(client, "population=0-20000") == [commune.nom, "Petit Bourg"]
    assert _names(client, "population=200000%2B") == ["Grande Ville"]
    assert _names(client, "actif=1") == [commune.nom]
    assert _names(client, "etoiles=3&referentiel=eci") == [commune.nom]
    assert _names(client, "realise=50-65") == [commune.nom]
    assert _names(client, "realise=0-35") == []
    assert _names(client, "q=bourg") == ["Petit Bourg"]
    assert _names(client, "tri=population")[:2] == ["Grande Ville", "Agglo du Lac"]
    assert _names(client, "tri=score")[0] == commune.nom
    page = client.get("/annuaire?tri=nom").text
    assert "Agglo du Lac" in page and "50.0 %" in page and "4 collectivités" in page


@pytest.mark.parametrize("page_size", [1, 2, 3, 50])
def test_directory_by_score_pages_through_the_scored_then_the_others(client, scored, monkeypatch, page_size):
    """By % réalisé (ties by name), then the unscored by name: the same order whatever page holds
    the step from the ones to the others (read apart: services.partage._page_ids)."""
    commune, *_ = scored  # 50 % on eci
    for nom, realise in (("Zeta", 50.0), ("Alpha", 80.0), ("Beta", 10.0)):
        _summary(make_collectivite(nom=nom), realise, 0)
    for nom in ("Delta", "Gamma", "Epsilon"):
        make_collectivite(nom=nom)
    expected = ["Alpha", *sorted([commune.nom, "Zeta"]), "Beta", "Delta", "Epsilon", "Gamma"]
    monkeypatch.setattr(partage, "PAGE_SIZE", page_size)
    names = []
    for page in range(1, -(-len(expected) // page_size) + 1):
        names += _names(client, f"tri=score&referentiel=eci&page={page}")
    assert names == expected


@pytest.mark.parametrize("query, message", [
    ("type=martien", "Type inconnu"),
    ("population=beaucoup", "Tranche de population inconnue"),
    ("etoiles=9", "Nombre d&#39;étoiles inconnu"),
    ("tri=hasard", "Tri inconnu"),
    ("page=abc", "Numéro de page invalide"),
    ("page=99", "La page 99 n&#39;existe pas : il y a 1 page."),
    ("departement=%27%3B--", "Code inconnu"),
])
def test_bad_directory_input_gets_a_french_message(client, app_context, query, message):
    make_collectivite()
    response = client.get(f"/annuaire?{query}")
    assert response.status_code == 422
    assert message in response.text
    htmx = client.get(f"/annuaire?{query}", headers={"HX-Request": "true"})
    assert htmx.status_code == 422 and message in htmx.text
    assert 'id="partage-resultats"' in htmx.text and "<html" not in htmx.text


def test_the_public_page_shows_scores_and_hides_private_data_until_opted_in(client, scored):
    commune, editor, admin = scored
    page = client.get(f"/annuaire/{commune.id}")
    assert page.status_code == 200
    assert "50.0 % réalisé" in page.text and "3 étoiles" in page.text and "Action 1" in page.text
    for private in (PRIVATE_PRECISION, "Action 1.2.1", editor.email, editor.name, admin.email):
        assert private not in page.text

    login(client, admin)
    assert client.post(f"/collectivites/{commune.id}/partage", data={"precisions_publiques": "1"}).status_code == 303
    client.post("/deconnexion")
    page = client.get(f"/annuaire/{commune.id}").text
    assert PRIVATE_PRECISION in page and "Statuts des actions" not in page

    login(client, admin)
    client.post(f"/collectivites/{commune.id}/partage", data={"statuts_publics": "1"})
    page = client.get(f"/annuaire/{commune.id}").text
    assert PRIVATE_PRECISION not in page and "Statuts des actions" in page and "Action 1.1.2" in page


def test_only_admins_choose_what_is_public(client, scored):
    commune, editor, admin = scored
    login(client, editor)
    assert client.post(f"/collectivites/{commune.id}/partage", data={"precisions_publiques": "1"}).status_code == 403
    assert client.get(f"/collectivites/{commune.id}/partage").status_code == 403
    assert PRIVATE_PRECISION not in client.get(f"/annuaire/{commune.id}").text
    assert client.get("/annuaire/999999").status_code == 404


@pytest.mark.postgres
def test_postgresql_refuses_summary_and_preference_writes_from_members(scored):
    commune, editor, admin = scored
    act_as(admin)
    updated = db.session.execute(text("UPDATE score_summary SET realise = 100 WHERE collectivite_id = :id RETURNING 1"),
                                 {"id": commune.id}).all()
    assert updated == []  # the policy hides the rows from the update
    with pytest.raises(ProgrammingError, match="row-level security"):
        db.session.execute(text("INSERT INTO score_summary VALUES (:id, 'cae', 1, 1, 1, '{}', '{}', now())"), {"id": commune.id})
    db.session.rollback()
    act_as(editor)
    with pytest.raises(ProgrammingError, match="row-level security"):
        db.session.execute(text("INSERT INTO partage_preference VALUES (:id, true, true, now())"), {"id": commune.id})
    db.session.rollback()


def _summary(collectivite, realise: float, eci_2: float, precisions_publiques: bool = False) -> None:
    from app.models import PartagePreference
    from app.persistence import utcnow
    from app.rls import system_work

    with system_work():
        db.session.add(ScoreSummary(collectivite_id=collectivite.id, referentiel_id="eci", realise=realise, programme=0,
                                    etoiles=labellisation.etoile_du_score("eci", realise), axes={"eci_1": [realise, 0], "eci_2": [realise, 0]},
                                    actions={"eci_1": realise, "eci_2": eci_2}, updated_at=utcnow()))
        if precisions_publiques:
            db.session.add(PartagePreference(collectivite_id=collectivite.id, statuts_publics=False,
                                             precisions_publiques=True, updated_at=utcnow()))
        db.session.commit()


def test_comparison_with_similar_collectivites(client, scored):
    commune, editor, admin = scored  # a commune of 12,000 inhabitants: 25 % on eci_1, 66.7 % on eci_2
    peers = [make_collectivite(nom=f"Pair {n}", population=5_000 + n) for n in range(5)]
    for n, peer in enumerate(peers):
        _summary(peer, 10.0 * (n + 1), 70.0 + n, precisions_publiques=n == 4)
    _summary(make_collectivite(nom="Trop grande", population=90_000), 99, 99)  # another band
    _summary(make_collectivite(kind="EPCI", nature="CC", nom="Autre type", code="200000009"), 99, 99)

    context = partage.comparison_page(commune.id, _args("referentiel=eci"))
    axe_1 = context["axes"][0]
    # eci_1 % réalisé: 10, 20, 25 (mine), 30, 40, 50
    assert (axe_1.key, axe_1.mine, axe_1.q1, axe_1.median, axe_1.q3, axe_1.rank, axe_1.count) == ("eci_1", 25.0, 21.2, 27.5, 37.5, 4, 6)
    behind = {distribution.key: leaders for distribution, leaders in context["actions"]}
    assert list(behind) == ["eci_1", "eci_2"]
    assert [leader.nom for leader in behind["eci_2"]] == ["Pair 4", "Pair 3", "Pair 2"]
    assert [leader.precisions_publiques for leader in behind["eci_2"]] == [True, False, False]

    login(client, editor)
    page = client.get(f"/collectivites/{commune.id}/comparaison?referentiel=eci")
    assert page.status_code == 200
    assert "4 sur 6" in page.text and f"/annuaire/{peers[4].id}#precision-eci-2" in page.text
    assert "Trop grande" not in page.text and "Autre type" not in page.text
    only_region = client.get(f"/collectivites/{commune.id}/comparaison?referentiel=eci&region=1&referentiel=eci")
    assert only_region.status_code == 200


def test_comparison_follows_a_peers_new_scores(client, scored):
    """The peers' summaries are kept between pages (services.partage._peer_groups) until one changes."""
    from app.persistence import utcnow
    from app.rls import system_work

    commune, *_ = scored  # 25 % on eci_1
    peers = [make_collectivite(nom=f"Pair {n}", population=5_000 + n) for n in range(5)]
    for n, peer in enumerate(peers):
        _summary(peer, 10.0 * (n + 1), 70.0 + n)
    assert partage.comparison_page(commune.id, _args("referentiel=eci"))["axes"][0].rank == 4  # behind 30, 40, 50
    with system_work():
        rescored = db.session.get(ScoreSummary, (peers[0].id, "eci"))
        rescored.axes, rescored.updated_at = {"eci_1": [90.0, 0.0], "eci_2": [90.0, 0.0]}, utcnow()
        db.session.commit()
    assert partage.comparison_page(commune.id, _args("referentiel=eci"))["axes"][0].rank == 5


def test_comparison_is_hidden_with_fewer_than_five_peers(client, scored):
    commune, editor, admin = scored
    for n in range(4):
        _summary(make_collectivite(nom=f"Pair {n}"), 10.0, 10.0)
    login(client, editor)
    page = client.get(f"/collectivites/{commune.id}/comparaison?referentiel=inconnu")
    assert page.status_code == 200 and "Moins de 5 collectivités comparables" in page.text
    assert "Pair 0" not in page.text


def test_statistics_page(client, scored):
    page = client.get("/statistiques")
    assert page.status_code == 200
    assert "collectivités actives" in page.text and "<svg" in page.text
    context = partage.statistics_page()
    assert (context["active_collectivites"], context["users"]) == (1, 2)
    assert context["started"] == [("Économie circulaire (test)", 1)]
    assert [bar.total for bar in context["etoiles"][0].bars] == [0, 0, 1, 0, 0]
    assert [point.value for point in context["growth"].lines[1].points][-1] == 2
