"""Which level's statut counts: a sous-action's own statut (an avancement, or non concerné) counts
for all its tâches, whose statuts are then left out of the score (scoring.md §3.5 rule A, §3.4).
The page says so near both controls, and how to switch back."""
import re

import pytest

from app.extensions import db
from app.models import Collectivite
from app.services import statuts
from app.services.scores import scores_for
from tests.factories import add_member, login, make_user
from tests.integration.test_workspace_pages import HTMX, action_url, post_statut
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

SOUS_ACTION_NOTE = ("Ce statut s'applique à toute la sous-action : les statuts des tâches ne sont pas pris en compte. "
                    "Pour évaluer tâche par tâche, remettez ce statut à « Non renseigné ».")


@pytest.fixture
def editor(client, tiny_content):
    user, collectivite = make_editor()
    login(client, user)
    return user, collectivite.id


def tache_control(html: str, tache: str) -> str:
    match = re.search(rf'<span id="statuts-action_statut-{tache}" class="tet-statut"[^>]*>.*?</select>.*?</span>\s*</span>',
                      html, re.S)
    assert match, f"no control for {tache}"
    return match.group(0)


def test_a_sous_action_statut_flags_its_taches_in_the_same_response(client, editor):
    user, cid = editor
    response = post_statut(client, cid, "eci_1.2", "fait")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SOUS_ACTION_NOTE in html
    assert 'aria-describedby="statut-note-eci-1-2"' in html  # the select points to the rule
    for tache in ("eci-1-2-1", "eci-1-2-2", "eci-1-2-3"):  # swapped out of band, flagged
        control = tache_control(html, tache)
        assert 'hx-swap-oob="true"' in control
        assert "Non pris en compte" in control
        assert "la sous-action 1.2 a son propre statut (« Fait »)" in control
        assert f'aria-describedby="statut-note-{tache}"' in control


def test_a_tache_under_a_sous_action_with_a_statut_says_it_does_not_count(client, editor):
    user, cid = editor
    statuts.set_statut(user, cid, "eci_1.2", "non_concerne")
    page = client.get(action_url(cid, "eci_1.2.1")).get_data(as_text=True)
    assert "Non pris en compte" in page and "(« Non concerné »)" in page
    assert "remettez celui de la sous-action à « Non renseigné »" in page
    # Editing the tâche is still possible (prepared for later), and still flagged.
    html = post_statut(client, cid, "eci_1.2.1", "fait").get_data(as_text=True)
    assert "Non pris en compte" in html
    children = client.get(action_url(cid, "eci_1.2", "/enfants"), headers=HTMX).get_data(as_text=True)
    assert children.count("Non pris en compte") == 3


def test_switching_the_sous_action_back_makes_the_taches_count_again(client, editor):
    user, cid = editor
    statuts.set_statut(user, cid, "eci_1.2.1", "fait")
    statuts.set_statut(user, cid, "eci_1.2", "pas_fait")
    run_jobs()
    assert scores_for(cid, "eci")["eci_1.2"]["point_fait"] == 0  # the sous-action's statut counts, not the tâche's

    html = post_statut(client, cid, "eci_1.2", "non_renseigne").get_data(as_text=True)
    assert SOUS_ACTION_NOTE not in html and "Non pris en compte" not in html
    assert 'id="statuts-action_statut-eci-1-2-1" class="tet-statut" hx-swap-oob="true"' in html  # unflagged in place
    run_jobs()
    assert scores_for(cid, "eci")["eci_1.2"]["point_fait"] == 10  # the tâche counts again


def test_readers_see_the_rule_too_and_leaves_get_no_note(client, editor):
    user, cid = editor
    statuts.set_statut(user, cid, "eci_1.2", "programme")
    statuts.set_statut(user, cid, "eci_2.1", "fait")  # a sous-action without tâches
    reader = make_user()
    add_member(reader, db.session.get(Collectivite, cid), "lecture")
    login(client, reader)
    assert SOUS_ACTION_NOTE in client.get(action_url(cid, "eci_1.2")).get_data(as_text=True)
    assert "Non pris en compte" in client.get(action_url(cid, "eci_1.2.3")).get_data(as_text=True)
    leaf = client.get(action_url(cid, "eci_2.1")).get_data(as_text=True)
    assert "s'applique à toute la sous-action" not in leaf


def test_a_sous_action_without_its_own_statut_flags_nothing(client, editor):
    user, cid = editor
    statuts.set_statut(user, cid, "eci_1.2.1", "fait")
    page = client.get(action_url(cid, "eci_1.2")).get_data(as_text=True)
    assert "s'applique à toute la sous-action" not in page and "Non pris en compte" not in page
