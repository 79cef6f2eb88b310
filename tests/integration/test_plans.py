"""Plans d'action and fiches action: the tree, the fields and their validation, deleting an axe,
the filters, the kanban move, the link to référentiel actions, rights, history, the live push,
and the XLSX export / import round trip."""
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.live import collectivite_topic, current_hub
from app.models import Axe, Fiche, FicheAction, FicheAxe, HistoryEntry, Plan
from app.rls import act_as
from app.services import indicateurs, plans, plans_xlsx
from app.services.suivi import InvalidEdit
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(tiny_content):
    collectivite = make_collectivite()
    users = {}
    for role in ("lecture", "edition"):
        users[role] = make_user(name=f"Agent {role}")
        add_member(users[role], collectivite, role)
    return collectivite.id, users


def build_plan(user, cid):
    """Plan › Axe 1 (› 1.1), Axe 2; fiches A (1.1), B (1.1 and 2), C (2)."""
    act_as(user)
    plan = plans.create_plan(user, cid, "PCAET", "Plan Climat Air Énergie Territorial")
    axe1 = plans.add_axe(user, cid, plan, None, "Énergie")
    axe11 = plans.add_axe(user, cid, plan, axe1.id, "Bâtiments")
    axe2 = plans.add_axe(user, cid, plan, None, "Mobilité")
    a = plans.create_fiche(user, cid, "Rénover les écoles", axe11)
    b = plans.create_fiche(user, cid, "Plan vélo", axe11)
    plans.attach(user, cid, b, axe2)
    c = plans.create_fiche(user, cid, "Covoiturage", axe2)
    return plan, (axe1, axe11, axe2), (a, b, c)


def test_plan_tree_numbers_axes_and_counts_each_fiche_once(world):
    cid, users = world
    plan, _, (a, b, c) = build_plan(users["edition"], cid)
    act_as(users["edition"])
    plans.set_field(users["edition"], cid, a, "statut", "Réalisé")
    plans.set_budget(users["edition"], cid, a, "investissement", "2025", "1 000,50")
    plans.set_budget(users["edition"], cid, b, "fonctionnement", "2026", "200")
    page = plans.plan_page(cid, plan.id)
    assert [(n.label, n.axe.nom) for n in page["tree"]] == [("1", "Énergie"), ("2", "Mobilité")]
    assert [n.label for n in page["tree"][0].children] == ["1.1"]
    assert [c.fiche.titre for c in page["tree"][1].fiches] == ["Plan vélo", "Covoiturage"]
    summary = page["summary"]
    assert (summary.fiche_count, summary.progress) == (3, 33.3)
    assert summary.budgets == {"investissement": 1000.5, "fonctionnement": 200.0}


def test_the_plans_list_sums_up_each_plan_and_a_plan_counts_its_fiches_by_statut(world):
    cid, users = world
    user = users["edition"]
    plan, _, (a, b, _) = build_plan(user, cid)
    act_as(user)
    other = plans.create_plan(user, cid, "Mobilité douce")
    plans.create_plan(user, cid, "Vide")
    axe = plans.add_axe(user, cid, other, None, "Vélo")
    plans.attach(user, cid, b, axe)  # b is in two plans, and in two axes of the first
    d = plans.create_fiche(user, cid, "Stationnement vélo", axe)
    plans.set_field(user, cid, a, "statut", "Réalisé")
    plans.set_field(user, cid, d, "statut", "En cours")
    plans.set_budget(user, cid, b, "fonctionnement", "2026", "200")
    plans.set_budget(user, cid, d, "investissement", "2025", "50")
    summaries = [(s.plan.nom, s.fiche_count, s.progress, s.budgets) for s in plans.plans_page(cid)["plans"]]
    assert summaries == [
        ("Mobilité douce", 2, 0.0, {"investissement": 50.0, "fonctionnement": 200.0}),
        ("PCAET", 3, 33.3, {"investissement": 0.0, "fonctionnement": 200.0}),
        ("Vide", 0, 0.0, {"investissement": 0.0, "fonctionnement": 0.0}),
    ]
    assert plans.plan_page(cid, plan.id)["statuts"] == [("À venir", 2), ("Réalisé", 1)]


def test_the_plan_page_shows_the_tree_with_each_fiche_card_and_the_totals(world, client):
    cid, users = world
    user = users["edition"]
    plan, (_, axe11, _), (a, b, c) = build_plan(user, cid)
    act_as(user)
    plans.set_field(user, cid, a, "statut", "Réalisé")
    plans.set_field(user, cid, b, "pilotes", "Agent lecture, Mme Durand")
    plans.set_field(user, cid, c, "date_fin", "2020-06-30")
    plans.set_budget(user, cid, a, "investissement", "2025", "1234.5")
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/plans/{plan.id}").get_data(as_text=True)
    assert "<dd>3</dd>" in html and "33,3 % des fiches réalisées" in html and "1 234,50 € HT" in html
    assert "À venir : 2 · Réalisé : 1" in html
    assert f'<li id="axe-{axe11.id}">' in html and "1.1. Bâtiments" in html and "2. Mobilité" in html
    for fiche in (a, b, c):  # b twice: in 1.1 and in 2
        link = f'<a href="/collectivites/{cid}/plans/fiches/{fiche.id}">{fiche.titre}</a>'
        assert html.count(link) == (2 if fiche is b else 1)
    fiche_page = client.get(f"/collectivites/{cid}/plans/fiches/{a.id}")  # where a card's link leads
    assert fiche_page.status_code == 200 and f"<h1 class=\"fr-h2\">{a.titre}" in fiche_page.get_data(as_text=True)
    assert '<span class="fr-badge fr-badge--sm fr-badge--blue-ecume">Réalisé</span>' in html
    assert html.count("Échéance dépassée") == 1 and html.count(" – Agent lecture, Mme Durand") == 2
    assert "Modifier l'axe" not in html  # a reader sees no edit form


def test_fields_are_validated_with_french_messages(world):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    user = users["edition"]
    act_as(user)
    for name, raw, message in [
        ("titre", "  ", "titre de la fiche est obligatoire"),
        ("statut", "Fini", "valeur inconnue"),
        ("date_debut", "31/02/2025", "date invalide"),
        ("cibles", ["Martiens"], "valeur inconnue"),
    ]:
        with pytest.raises(InvalidEdit, match=message):
            plans.set_field(user, cid, a, name, raw)
    plans.set_field(user, cid, a, "date_debut", "01/03/2025")
    with pytest.raises(InvalidEdit, match="fin précède"):
        plans.set_field(user, cid, a, "date_fin", "2025-01-01")
    with pytest.raises(InvalidEdit, match="année invalide"):
        plans.set_budget(user, cid, a, "investissement", "1800", "10")
    with pytest.raises(InvalidEdit, match="montant invalide"):
        plans.set_budget(user, cid, a, "investissement", "2025", "beaucoup")


def test_pilotes_are_members_or_free_names(world):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    act_as(users["edition"])
    plans.set_field(users["edition"], cid, a, "pilotes", "agent LECTURE, Mme Durand, Mme Durand")
    assert a.pilotes == [{"user_id": users["lecture"].id}, {"nom": "Mme Durand"}]
    assert plans.pilote_names(a, {users["lecture"].id: "Agent lecture"}) == ["Agent lecture", "Mme Durand"]


def test_deleting_an_axe_deletes_fiches_only_there_and_detaches_the_others(world, client):
    cid, users = world
    plan, (axe1, axe11, axe2), (a, b, c) = build_plan(users["edition"], cid)
    a_id, b_id = a.id, b.id
    assert plans.axe_deletion_impact(axe1) == (1, 1)
    login(client, users["edition"])
    page = client.get(f"/collectivites/{cid}/plans/axes/{axe1.id}/supprimer").get_data(as_text=True)
    assert "1 fiche rattachée uniquement ici sera supprimée" in page and "1 fiche rattachée aussi ailleurs" in page
    assert client.post(f"/collectivites/{cid}/plans/axes/{axe1.id}/supprimer").status_code == 303
    db.session.expire_all()
    assert db.session.get(Fiche, a_id) is None and db.session.get(Fiche, b_id) is not None
    assert {x.axe_id for x in db.session.query(FicheAxe).filter_by(fiche_id=b_id)} == {axe2.id}
    assert db.session.query(Axe).filter_by(plan_id=plan.id).count() == 1


def test_filters_come_from_the_url_and_bad_values_say_so(world, client):
    cid, users = world
    _, _, (a, b, c) = build_plan(users["edition"], cid)
    act_as(users["edition"])
    plans.set_field(users["edition"], cid, a, "date_fin", (date.today() - timedelta(days=1)).isoformat())
    plans.set_field(users["edition"], cid, b, "priorite", "Élevé")
    plans.set_field(users["edition"], cid, c, "thematiques", ["Mobilité et transport"])
    plans.set_field(users["edition"], cid, c, "pilotes", "Mme Durand")
    plans.link_action(users["edition"], cid, b, "eci_1.1")
    titles = lambda filters: [card.fiche.titre for card in plans.fiches_list(cid, filters)]  # noqa: E731
    assert titles({"en_retard": "1"}) == ["Rénover les écoles"]
    assert titles({"priorite": "Élevé"}) == ["Plan vélo"]
    assert titles({"thematique": "Mobilité et transport", "pilote": "durand"}) == ["Covoiturage"]
    assert titles({"action": "eci_1.1"}) == ["Plan vélo"]
    login(client, users["lecture"])
    response = client.get(f"/collectivites/{cid}/plans/fiches?statut=Fini")
    assert response.status_code == 400 and "statut inconnu : Fini" in response.get_data(as_text=True)
    html = client.get(f"/collectivites/{cid}/plans/fiches?priorite=%C3%89lev%C3%A9").get_data(as_text=True)
    assert "Plan vélo" in html and "Covoiturage" not in html


def test_inline_edit_answers_the_field_and_a_refusal_with_its_message(world, client):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    login(client, users["edition"])
    url = f"/collectivites/{cid}/plans/fiches/{a.id}/champs/"
    response = client.post(url + "statut", data={"valeur": "En cours"}, headers=HTMX)
    assert response.status_code == 200 and 'id="plans-field-statut"' in response.get_data(as_text=True)
    refused = client.post(url + "date_debut", data={"valeur": "demain"}, headers=HTMX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "date invalide" in html and 'value="demain"' in html
    db.session.expire_all()
    assert db.session.get(Fiche, a.id).statut == "En cours"
    entry = db.session.query(HistoryEntry).filter_by(kind="fiche", key=f"fiche:{a.id}:statut").one()
    assert (entry.old_value, entry.new_value) == ('"À venir"', '"En cours"')


def test_lecture_reads_but_never_writes(world, client):
    cid, users = world
    plan, _, (a, _, _) = build_plan(users["edition"], cid)
    login(client, users["lecture"])
    for path in ("", f"/{plan.id}", "/fiches", "/kanban", f"/fiches/{a.id}"):
        assert client.get(f"/collectivites/{cid}/plans{path}").status_code == 200
    assert client.post(f"/collectivites/{cid}/plans/fiches/{a.id}/champs/titre", data={"valeur": "x"}).status_code == 403
    with pytest.raises(PermissionError):
        plans.create_plan(users["lecture"], cid, "Autre")


def test_kanban_move_is_a_form_post(world, client):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    login(client, users["edition"])
    response = client.post(f"/collectivites/{cid}/plans/fiches/{a.id}/deplacer",
                           data={"statut": "Bloqué", "filtres": "priorite=Bas"})
    assert response.status_code == 303 and response.location.endswith("/plans/kanban?priorite=Bas")
    db.session.expire_all()
    assert db.session.get(Fiche, a.id).statut == "Bloqué"


def test_a_linked_fiche_appears_on_the_action_page(world, client):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    act_as(users["edition"])
    plans.link_action(users["edition"], cid, a, "eci_1.1")
    with pytest.raises(InvalidEdit, match="action inconnue"):
        plans.link_action(users["edition"], cid, a, "eci_9")
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1").get_data(as_text=True)
    assert "Fiches action liées" in html and "Rénover les écoles" in html
    assert db.session.query(FicheAction).count() == 1


def test_a_write_is_pushed_to_the_collectivite_with_the_page_it_came_from(world, client):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    login(client, users["edition"])
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(cid)])
    try:
        url = f"/collectivites/{cid}/plans/fiches/{a.id}/champs/"
        client.post(url + "date_debut", data={"valeur": "hier"}, headers={**HTMX, "X-Plans-Page": "p1"})  # refused
        client.post(url + "titre", data={"valeur": "Nouveau titre"}, headers={**HTMX, "X-Plans-Page": "p2"})
        pushed = []
        while not pushed or 'data-origin="p2"' not in pushed[-1]:  # earlier tests' pushes may come first
            pushed.append(subscription.get(timeout=5))
            assert pushed[-1] is not None, "no push of the accepted edit"
    finally:
        hub.unsubscribe(subscription)
    assert 'id="plans-changed"' in pushed[-1] and not any('data-origin="p1"' in html for html in pushed)


def test_xlsx_round_trip_gives_the_same_plan(world):
    cid, users = world
    user = users["edition"]
    plan, _, (a, b, c) = build_plan(user, cid)
    act_as(user)
    plans.set_field(user, cid, a, "description", "Isolation et chauffage")
    plans.set_field(user, cid, a, "date_debut", "2025-01-15")
    plans.set_field(user, cid, a, "pilotes", "Agent lecture, Mme Durand")
    plans.set_field(user, cid, a, "cibles", ["Agents", "Elus locaux"])
    plans.set_budget(user, cid, a, "investissement", "2025", "1500.25")
    plans.link_action(user, cid, b, "eci_1.2")
    plans.link_indicateur(user, cid, b, indicateurs.create_perso(user, cid, "Vélos", "vélos", [], ""))
    plans.add_etape(user, cid, a, "Diagnostic")
    plans.add_etape(user, cid, a, "Travaux")
    plans.update_etape(user, cid, plans.etapes_state(cid, a.id, False).etapes[0], "Diagnostic", True)
    exported = plans_xlsx.export_plan(cid, plan).getvalue()
    sheet = load_workbook(io.BytesIO(exported)).active
    assert [cell.value for cell in sheet[4]][:3] == ["Axe (x)", "Sous-axe (x.x)", "Titre"]
    headers = [c.value for c in sheet[4]]
    row = next(r for r in sheet.iter_rows(min_row=5) if r[headers.index("Titre")].value == a.titre)
    debut, fin = (row[headers.index(h)] for h in ("Date de début", "Date de fin"))
    assert (debut.value.date(), debut.number_format) == (date(2025, 1, 15), "DD/MM/YYYY")
    assert (fin.value, fin.number_format) == (None, "DD/MM/YYYY")  # an empty date cell is formatted too
    preview = plans_xlsx.parse_plan(cid, exported)
    assert preview.errors == []
    act_as(user)
    copy = plans_xlsx.import_plan(user, cid, preview)
    assert _shape(cid, copy.id) == _shape(cid, plan.id)
    assert plans_xlsx.export_plan(cid, copy).getvalue() != b""


def _shape(cid, plan_id):
    """The plan as comparable data: axes paths, and per fiche its fields, paths, links, budgets."""
    page = plans.plan_page(cid, plan_id, full=True)
    fiches = {}

    def walk(nodes, prefix):
        for node in nodes:
            path = prefix + (node.axe.nom,)
            for card in node.fiches:
                f = card.fiche
                entry = fiches.setdefault(f.titre, {
                    "fields": {n: getattr(f, n) for n in plans.FIELDS}, "paths": set(),
                    "links": [x[0] for x in plans.fiche_links(cid, f.id, False).actions],
                    "indicateurs": plans.fiche_links(cid, f.id, False).indicateurs,
                    "etapes": [(e.titre, e.realise) for e in plans.etapes_state(cid, f.id, False).etapes],
                    "budget": [(r.type, r.annee, r.montant_ht) for r in plans.budget_state(cid, f.id, False).rows]})
                entry["paths"].add(path)
            walk(node.children, path)

    walk(page["tree"], ())
    plan = db.session.get(Plan, plan_id)
    return plan.type, fiches


def test_import_reports_row_errors_and_writes_nothing(world):
    cid, users = world
    plan, _, (a, _, _) = build_plan(users["edition"], cid)
    sheet_file = plans_xlsx.export_plan(cid, plan)
    workbook = load_workbook(sheet_file)
    sheet = workbook.active
    headers = [cell.value for cell in sheet[4]]
    sheet.cell(row=5, column=headers.index("Statut") + 1, value="Fini")
    sheet.cell(row=6, column=headers.index("Titre") + 1, value="")
    sheet.cell(row=7, column=headers.index("Indicateurs liés") + 1, value="cae_404")
    sheet.cell(row=7, column=headers.index("Étapes") + 1, value="[x] Diagnostic\n[ ]  ")
    output = io.BytesIO()
    workbook.save(output)
    before = db.session.query(Plan).count()
    preview = plans_xlsx.parse_plan(cid, output.getvalue())
    assert any(e.startswith("ligne 5, colonne F (Statut)") and "Fini" in e for e in preview.errors)
    assert any(e.startswith("ligne 6, colonne C (Titre)") for e in preview.errors)
    assert "ligne 7, colonne R : indicateur inconnu : cae_404" in preview.errors
    assert any(e.startswith("ligne 7, colonne U (Étapes) : le nom de l'étape est obligatoire") for e in preview.errors)
    with pytest.raises(InvalidEdit):
        plans_xlsx.import_plan(users["edition"], cid, preview)
    assert db.session.query(Plan).count() == before
    assert plans_xlsx.parse_plan(cid, b"not a workbook").errors == ["le fichier n'est pas un classeur XLSX lisible"]


def test_a_fiche_follows_indicateurs_shown_both_ways(world, client):
    cid, users = world
    user = users["edition"]
    _, _, (a, _, _) = build_plan(user, cid)
    act_as(user)
    perso = indicateurs.create_perso(user, cid, "Arbres plantés", "arbres", [], "")
    with pytest.raises(InvalidEdit, match="indicateur inconnu : cae_404"):
        plans.link_indicateur(user, cid, a, "cae_404")
    login(client, user)
    url = f"/collectivites/{cid}/plans/fiches/{a.id}/indicateurs"
    assert client.post(url, data={"indicateur_id": perso}).status_code == 303
    assert client.post(url, data={"indicateur_id": perso}).status_code == 303  # twice: one link
    assert "Arbres plantés" in client.get(f"/collectivites/{cid}/plans/fiches/{a.id}").get_data(as_text=True)
    entry = db.session.query(HistoryEntry).filter_by(kind="fiche", key=f"fiche:{a.id}:indicateurs").one()
    assert (entry.old_value, entry.new_value) == (None, f'"{perso}"')
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/indicateurs/{perso}").get_data(as_text=True)
    assert "Fiches action liées" in html and "Rénover les écoles" in html
    assert [c.fiche.titre for c in plans.fiches_list(cid, {"indicateur": perso})] == ["Rénover les écoles"]
    outsider = make_user(name="Voisin")
    login(client, outsider)
    html = client.get(f"/collectivites/{cid}/indicateurs/{perso}").get_data(as_text=True)
    assert "Rénover les écoles" not in html
    login(client, user)
    assert client.post(f"{url}/{perso}/retirer").status_code == 303
    db.session.expire_all()
    assert plans.fiche_links(cid, a.id, False).indicateurs == []


def test_etapes_are_added_ticked_moved_and_deleted_inline(world, client):
    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    login(client, users["edition"])
    url = f"/collectivites/{cid}/plans/fiches/{a.id}/etapes"
    for titre in ("Diagnostic", "Travaux", "Réception"):
        response = client.post(url, data={"titre": titre}, headers=HTMX)
        assert response.status_code == 200 and 'id="plans-etapes"' in response.get_data(as_text=True)
    refused = client.post(url, data={"titre": "  "}, headers=HTMX)
    assert refused.status_code == 422 and "nom de l&#39;étape est obligatoire" in refused.get_data(as_text=True)
    first, second, third = plans.etapes_state(cid, a.id, True).etapes
    html = client.post(f"{url}/{first.id}", data={"titre": "Diagnostic", "realise": "on"}, headers=HTMX).get_data(as_text=True)
    assert "1 étape réalisée sur 3" in html
    client.post(f"{url}/{third.id}/deplacer", data={"sens": "haut"}, headers=HTMX)
    client.post(f"{url}/{second.id}/supprimer", headers=HTMX)
    db.session.expire_all()
    assert [(e.titre, e.realise) for e in plans.etapes_state(cid, a.id, True).etapes] == [
        ("Diagnostic", True), ("Réception", False)]
    assert client.post(f"{url}/999999", data={"titre": "x"}).status_code == 404
    history = client.get(f"/collectivites/{cid}/historique").get_data(as_text=True)
    assert "Diagnostic (réalisée)" in history and "Diagnostic, Réception, Travaux" in history
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{cid}/plans/fiches/{a.id}").get_data(as_text=True)
    assert "Diagnostic – réalisée" in html and "Ajouter l&#39;étape" not in html


@pytest.mark.postgres
@pytest.mark.parametrize("table, columns", [("fiche_indicateur", "indicateur_id"), ("fiche_etape", "titre, position, realise")])
def test_postgres_refuses_a_link_or_etape_from_a_reader(world, table, columns):
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    cid, users = world
    _, _, (a, _, _) = build_plan(users["edition"], cid)
    values = "'cae_8'" if table == "fiche_indicateur" else "'x', 1, false"
    act_as(users["lecture"])
    with pytest.raises(ProgrammingError, match="row-level security"):
        db.session.execute(text(f"INSERT INTO {table} (collectivite_id, fiche_id, {columns}) VALUES (:cid, :fiche, {values})"),
                           {"cid": cid, "fiche": a.id})
    db.session.rollback()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["plan", "fiche"])
def test_postgres_refuses_a_plan_write_from_a_reader(world, table):
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    cid, users = world
    act_as(users["lecture"])
    column = "nom" if table == "plan" else "titre, description, objectifs, amelioration_continue, pilotes, " \
        "services, partenaires, financeurs, cibles, thematiques"
    values = "'x'" if table == "plan" else "'x', '', '', false, '[]', '[]', '[]', '[]', '[]', '[]'"
    with pytest.raises(ProgrammingError, match="row-level security"):
        db.session.execute(text(f"INSERT INTO {table} (collectivite_id, {column}, modified_at) "
                                f"VALUES (:cid, {values}, now())"), {"cid": cid})
    db.session.rollback()


def test_import_page_previews_then_imports_and_refuses_a_bad_file(world, client):
    cid, users = world
    plan, _, _ = build_plan(users["edition"], cid)
    exported = plans_xlsx.export_plan(cid, plan).getvalue()
    login(client, users["edition"])
    url = f"/collectivites/{cid}/plans/import"
    bad = client.post(url, data={"fichier": (io.BytesIO(b"xx"), "plan.xlsx")}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "rien n&#39;a été importé" in bad.get_data(as_text=True)
    preview = client.post(url, data={"fichier": (io.BytesIO(exported), "plan.xlsx")}, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "3 fiches" in html and "Covoiturage" in html
    assert db.session.query(Plan).count() == 1
    done = client.post(url, data={"contenu": plans_xlsx.to_token(exported), "confirmer": "1"})
    assert done.status_code == 303 and db.session.query(Plan).count() == 2


def test_a_reader_downloads_the_plan_export(world, client):
    cid, users = world
    plan, _, _ = build_plan(users["edition"], cid)
    login(client, users["lecture"])
    response = client.get(f"/collectivites/{cid}/plans/{plan.id}/export.xlsx")
    assert response.status_code == 200 and response.mimetype == plans_xlsx.XLSX_TYPE
    assert f"Export_PCAET_{date.today().isoformat()}.xlsx" in response.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.data)).active["B1"].value == "PCAET"
    template = client.get(f"/collectivites/{cid}/plans/modele.xlsx")
    assert template.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(template.data)).active[4]][:3] == ["Axe (x)", "Sous-axe (x.x)", "Titre"]
    assert plans_xlsx.parse_plan(cid, template.data).errors == ["ligne 1 : le nom du plan (cellule B1) est obligatoire"]
