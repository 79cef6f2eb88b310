"""The history page as an agent reads it: names and labels rather than ids, Paris time, rendered
précisions, links; filters in the query string (bad values explained, never a 500); pages."""
import json
import re
from datetime import datetime

import pytest

from app.extensions import db
from app.models import HistoryEntry, Question, QuestionChoix
from app.rls import act_as, system_work
from app.services import personnalisation, precisions, statuts
from app.services.history import PAGE_SIZE
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)


@pytest.fixture
def world(tiny_content):
    """Collectivité with an editor (Alice) and a second editor (Bruno); a choix and a proportion
    question besides the tiny content's binaire `compost`."""
    db.session.add(Question(id="chauffage", type="choix", formulation="Mode de chauffage principal ?",
                            thematique_id="energie",
                            choix=[QuestionChoix(id="chauffage_bois", formulation="Chaudière bois", position=0)]))
    db.session.add(Question(id="part_bio", type="proportion", formulation="Part de repas bio ?", thematique_id="alim"))
    db.session.commit()
    collectivite = make_collectivite()
    alice, bruno = make_user(name="Alice Martin"), make_user(name="Bruno Petit")
    for user in (alice, bruno):
        add_member(user, collectivite, "edition")
    return collectivite.id, alice, bruno


def history(client, cid, query=""):
    response = client.get(f"/collectivites/{cid}/historique{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add_entry(cid, user, at, kind="statut", key="eci_1.1.1", old=None, new='{"statut": "fait", "detail": null}'):
    with system_work():  # as the app would have written it, at a chosen time
        db.session.add(HistoryEntry(collectivite_id=cid, user_id=user.id, at=at, kind=kind, key=key, old_value=old,
                                    new_value=new))
        db.session.commit()


def test_entries_show_names_labels_and_links(client, world):
    cid, alice, _ = world
    act_as(alice)
    statuts.set_statut(alice, cid, "eci_1.2.2", "programme")
    statuts.set_statut(alice, cid, "eci_1.2.2", "detaille", (50, 25, 25))
    personnalisation.set_reponse(alice, cid, "compost", "NON")
    personnalisation.set_reponse(alice, cid, "chauffage", "chauffage_bois")
    personnalisation.set_reponse(alice, cid, "part_bio", "0.35")
    login(client, alice)
    html = history(client, cid)
    action_link = f'<a href="/collectivites/{cid}/referentiels/eci/actions/eci_1.2.2">1.2.2 Action 1.2.2</a>'
    assert action_link in html
    # Two edits of the statut within the hour: one entry, the value before them as "avant".
    assert html.count(action_link) == 1
    assert "Avant : Non renseigné <span aria-hidden=\"true\">→</span> Après : <strong>Détaillé : 50 % fait, 25 % programmé, 25 % pas fait</strong>" in html
    question_link = f'href="/collectivites/{cid}/personnalisation#personnalisation-question-compost">Compostage collectif ?</a>'
    assert question_link in html and "Après : <strong>Non</strong>" in html
    assert "Mode de chauffage principal ?" in html and "<strong>Chaudière bois</strong>" in html
    assert "<strong>35\u00a0%</strong>" in html
    assert "chauffage_bois" not in html.replace("#personnalisation-question-chauffage", "") and ">NON<" not in html
    assert html.count("par Alice Martin") == 4 and "4 modifications" in html


def test_times_are_shown_in_paris_time(client, world):
    cid, alice, _ = world
    add_entry(cid, alice, datetime(2025, 1, 15, 10, 30))  # stored in UTC: winter, UTC+1
    add_entry(cid, alice, datetime(2025, 7, 1, 22, 5), key="eci_1.1.2")  # summer, UTC+2: the next day
    login(client, alice)
    html = history(client, cid)
    assert '<time datetime="2025-01-15T11:30:00+01:00">15/01/2025 à 11:30</time>' in html
    assert '<time datetime="2025-07-02T00:05:00+02:00">02/07/2025 à 00:05</time>' in html


def test_precisions_are_rendered_before_and_after_and_sanitised(client, world):
    cid, alice, bruno = world
    act_as(alice)
    precisions.set_precision(alice, cid, "eci_1.1", "Délibération **2024**")
    act_as(bruno)
    precisions.set_precision(bruno, cid, "eci_1.1", "# Bilan\n\nDélibération **2025** <script>alert(1)</script>")
    login(client, alice)
    html = history(client, cid)
    assert "<strong>2024</strong>" in html and "<strong>2025</strong>" in html
    assert "<script>alert" not in html and "**2025**" not in html
    assert "<h3>Bilan</h3>" in html  # below the entry's h2
    assert "Aucune précision" in html  # Alice's entry: there was none before


def test_filters_by_member_kind_and_days_in_paris_time(client, world):
    cid, alice, bruno = world
    add_entry(cid, alice, datetime(2025, 3, 31, 21, 30), key="eci_1.1.1")  # 31/03 23:30 in Paris
    add_entry(cid, alice, datetime(2025, 3, 31, 22, 30), key="eci_1.1.2")  # 01/04 00:30 in Paris
    add_entry(cid, bruno, datetime(2025, 4, 2, 9, 0), kind="reponse", key="compost", old="null", new='"OUI"')
    login(client, alice)

    def targets(query):
        return re.findall(r">(1\.1\.\d Action 1\.1\.\d|Compostage collectif \?)</a>", history(client, cid, query))

    assert targets("") == ["Compostage collectif ?", "1.1.2 Action 1.1.2", "1.1.1 Action 1.1.1"]
    assert targets(f"?membre={bruno.id}") == ["Compostage collectif ?"]
    assert targets("?type=statut") == ["1.1.2 Action 1.1.2", "1.1.1 Action 1.1.1"]
    assert targets("?du=2025-04-01&au=2025-04-01") == ["1.1.2 Action 1.1.2"]
    assert targets("?au=2025-03-31") == ["1.1.1 Action 1.1.1"]
    assert targets(f"?membre={alice.id}&type=reponse") == []
    form = history(client, cid, f"?membre={bruno.id}&type=reponse")
    assert f'<option value="{bruno.id}" selected>Bruno Petit</option>' in form
    assert '<option value="reponse" selected>' in form and "Aucune modification" not in form


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?membre=abc", "Membre inconnu"),
        ("?membre=999999", "Membre inconnu"),
        ("?type=fichier", "Type de modification inconnu"),
        ("?du=2025-13-01", "Date de début invalide"),
        ("?au=31/03/2025", "Date de fin invalide"),
        ("?du=2025-04-02&au=2025-04-01", "La date de fin doit être postérieure"),
        ("?page=-1", "Numéro de page invalide"),
        ("?page=deux", "Numéro de page invalide"),
    ],
)
def test_bad_filters_are_explained_and_left_out(client, world, query, message):
    cid, alice, _ = world
    add_entry(cid, alice, datetime(2025, 4, 3, 12, 0))
    login(client, alice)
    html = history(client, cid, query)
    assert message in html
    assert "1.1.1 Action 1.1.1" in html  # the list, without the refused filter


def test_entries_come_in_pages_that_keep_the_filters(client, world):
    cid, alice, bruno = world
    for minute in range(2 * PAGE_SIZE + 5):
        add_entry(cid, alice, datetime(2025, 5, 1, 8, minute), key=f"eci_1.2.{minute}")
    add_entry(cid, bruno, datetime(2025, 5, 2, 8, 0))
    login(client, alice)
    first = history(client, cid, f"?membre={alice.id}")
    assert f"{2 * PAGE_SIZE + 5} modifications · page 1 sur 3" in first
    assert first.count('class="tet-history__item"') == PAGE_SIZE and "Bruno Petit</p>" not in first
    assert 'class="fr-pagination ' in first and 'aria-current="page" title="Page 1"' in first
    assert f'href="/collectivites/{cid}/historique?membre={alice.id}&amp;page=2"' in first
    last = history(client, cid, f"?membre={alice.id}&page=3")
    assert last.count('class="tet-history__item"') == 5 and "eci_1.2.0</h2>" in last
    assert history(client, cid, f"?membre={alice.id}&page=99").count('class="tet-history__item"') == 5  # the last page


def test_unknown_or_archived_items_and_deleted_accounts_still_show(client, world):
    cid, alice, bruno = world
    add_entry(cid, bruno, datetime(2025, 4, 1, 12, 0), key="eci_9.9", new=json.dumps({"statut": "fait", "detail": None}))
    with system_work():
        db.session.delete(bruno)
        db.session.commit()
    login(client, alice)
    html = history(client, cid)
    assert "Statut :\n      eci_9.9</h2>" in html and "par compte supprimé" in html
