"""Points in words: the référentiel points, the collectivité's potentiel when it differs, and why
(the rule and the answers or identity that decided it), never a rule formula in the workspace."""
import re

import pytest

from app.extensions import db
from app.filters import points_text, potentiel_note
from app.live import collectivite_topic, current_hub, make_hub
from app.models import ContentVersion, PersonnalisationRegle, Question, QuestionAction
from app.persistence import utcnow
from app.services import evaluation, personnalisation
from tests.factories import login
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

REEMPLOI = "La collectivité a-t-elle une ressourcerie ?"


@pytest.fixture
def rules(tiny_content):
    """The tiny content plus: action eci_1 halved when `ressourcerie` is answered NON, action eci_2
    halved for communes, eci_2.1's score capped by eci_1.1's."""
    db.session.add(Question(id="ressourcerie", type="binaire", formulation=REEMPLOI, thematique_id="dechets"))
    db.session.add_all([
        QuestionAction(question_id="ressourcerie", action_id="eci_1"),
        QuestionAction(question_id="compost", action_id="eci_2.2"),
        PersonnalisationRegle(action_id="eci_1", kind="reduction", formule="si reponse(ressourcerie, NON) alors 0.5"),
        PersonnalisationRegle(action_id="eci_2", kind="reduction",
                              formule="si identite(type, EPCI) alors 0.8 sinon si identite(type, commune) alors 0.5"),
        PersonnalisationRegle(action_id="eci_2.1", kind="score", formule="min(score(eci_1.1), score(eci_2.1))"),
    ])
    db.session.add(ContentVersion(id=626262, content_hash="tiny-raisons", source="tests", loaded_at=utcnow()))
    db.session.commit()


@pytest.fixture
def editor(client, rules):
    user, collectivite = make_editor()  # a commune of 12 000 inhabitants
    login(client, user)
    return user, collectivite.id


def page(client, cid, action_id=None) -> str:
    """The page once its scores are stored (a first view enqueues them: the reasons need them)."""
    url = f"/collectivites/{cid}/referentiels/eci" + (f"/actions/{action_id}" if action_id else "")
    client.get(url)
    run_jobs()
    return client.get(url).get_data(as_text=True)


def test_a_reduction_says_from_what_to_what_and_which_answer(client, editor):
    user, cid = editor
    personnalisation.set_reponse(user, cid, "ressourcerie", "NON")
    run_jobs()
    html = page(client, cid, "eci_1")
    assert f"Potentiel réduit de 40 à 20 points car la collectivité a répondu « Non » à « {REEMPLOI} »." in html
    assert "40 points au référentiel" in html
    assert "reponse(" not in html and "identite(" not in html  # no formula for agents
    assert "S'applique à la collectivité" in html
    # The public page still shows the formulas to experts.
    assert "reponse(ressourcerie, NON)" in client.get("/referentiels/eci/actions/eci_1").get_data(as_text=True)


def test_an_identity_rule_names_the_identity_and_a_rule_without_effect_says_so(client, editor):
    user, cid = editor
    html = page(client, cid, "eci_2")
    assert "Potentiel réduit de 60 à 30 points car la collectivité est une commune." in html
    eci_1 = page(client, cid, "eci_1")  # ressourcerie unanswered: the rule does nothing
    assert "Sans effet pour la collectivité avec ses réponses actuelles." in eci_1
    assert "Potentiel réduit de 40" not in eci_1
    assert "Réponse : pas encore de réponse" in eci_1


def test_a_desactivation_names_the_answer_and_its_subtree_points_to_it(client, editor):
    user, cid = editor
    personnalisation.set_reponse(user, cid, "compost", "NON")
    run_jobs()
    assert "Désactivée car la collectivité a répondu « Non » à « Compostage collectif ? »." in page(client, cid, "eci_2.2")
    assert "Désactivée avec 2.2, par la personnalisation." in page(client, cid, "eci_2.2.1")
    assert "Réponse : Non" in page(client, cid, "eci_2.2")


def test_a_score_rule_is_said_in_words(client, editor):
    html = page(client, editor[1], "eci_2.1")
    assert "Le score réalisé ne peut pas dépasser celui de 1.1 (règle de la personnalisation)." in html
    assert "min(score" not in html


def test_the_tree_says_why_its_potentiel_differs_from_the_referentiel(client, editor):
    user, cid = editor
    personnalisation.set_reponse(user, cid, "ressourcerie", "NON")
    run_jobs()
    html = page(client, cid)
    assert "100 points au référentiel" in html
    root = re.search(r'<span id="score-eci" .*?</span>\s*</span>', html, re.S).group(0)
    assert "/50 pts" in root and "(potentiel réduit, 100 points au référentiel)" in root
    listed = re.search(r'<ul class="tet-personnalised">.*?</ul>', html, re.S).group(0)
    assert "1 Action 1</a> : Potentiel réduit de 40 à 20 points car la collectivité a répondu" in listed
    assert "2 Action 2</a> : Potentiel réduit de 60 à 30 points" in listed
    assert "2.1 Action 2.1</a> : Le score réalisé ne peut pas dépasser celui de 1.1" in listed
    row = re.search(r'<li id="referentiels-node-eci-1" .*?</li>', html, re.S).group(0)
    assert "(potentiel réduit, 40 points au référentiel)" in row and "Potentiel réduit de 40 à 20 points" in row


def test_a_pushed_score_slot_says_why_its_potentiel_differs(app, monkeypatch, editor):
    user, cid = editor
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    evaluation.rescore(cid, "eci")  # the page's scores
    db.session.commit()
    subscription = current_hub().subscribe([collectivite_topic(cid)])
    try:
        personnalisation.set_reponse(user, cid, "ressourcerie", "NON")
        run_jobs()
        pushed = subscription.get(timeout=5)
    finally:
        current_hub().unsubscribe(subscription)
    assert re.search(r'id="score-eci-1" class="tet-score" hx-swap-oob="true">.*?20 pts <span class="tet-score__potentiel">'
                     r'\(potentiel réduit, 40 points au référentiel\)', pushed, re.S)


@pytest.mark.parametrize("record, note", [
    ({"point_referentiel": 4.0, "point_potentiel": 4.0}, ""),
    ({"point_referentiel": 4.0, "point_potentiel": 4.0004}, ""),
    ({"point_referentiel": 4.0, "point_potentiel": 1.0}, "potentiel réduit, 4 points au référentiel"),
    ({"point_referentiel": 4.0, "point_potentiel": 6.5}, "potentiel augmenté, 4 points au référentiel"),
    ({"point_referentiel": 1.5, "point_potentiel": 0.0, "concerne": False}, "non concerné, 1,5 point au référentiel"),
    ({"point_referentiel": 20.0, "point_potentiel": 0.0, "desactive": True, "concerne": False},
     "désactivé, 20 points au référentiel"),
    ({"point_potentiel": 3.0}, ""),  # a record without référentiel points: nothing to compare
])
def test_potentiel_note(record, note):
    assert potentiel_note(record) == note


def test_points_text_is_french():
    assert [points_text(v) for v in (0, 1, 1.5, 2, 12.25)] == ["0 point", "1 point", "1,5 point", "2 points", "12,25 points"]
