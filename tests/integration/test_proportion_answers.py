"""Proportion questions, the only numeric kind (personnalisation.md §1.2): agents type and read a
percentage from 0 to 100 (decimal comma accepted); the answer is stored as the rules read it, in
[0, 1]. A value out of range or not a number comes back with a visible message, status 422, as
typed, nothing stored. Every proportion question of the demo content and of the 2025 corpus."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Question, Reponse
from app.services.personnalisation import consequences_for
from tests.conftest import PROJECT_ROOT, SHARED
from tests.factories import add_member, login, make_collectivite, make_user

HTMX = {"HX-Request": "true"}
CORPORA = {"demo": PROJECT_ROOT / "content", "2025": SHARED / "referentiels/2025/markdown"}
ACCEPTED = {"40": "0.4", "12,5": "0.125", "12.5": "0.125", " 7 % ": "0.07", "33,3": "0.333", "0": "0.0", "100": "1.0"}
REFUSED = ("150", "100,5", "-5", "abc", "0,4,5", "1e2", "nan", "40 pour cent")


def load(runner, corpus: str) -> None:
    result = runner.invoke(args=["content", "load", str(CORPORA[corpus])])
    assert result.exit_code == 0, result.output


def editor_for(client, question: Question) -> int:
    """A collectivité the question is asked to, and an editor of it logged in."""
    kind = "commune" if not question.types_concernes or "commune" in question.types_concernes else "EPCI"
    collectivite = make_collectivite(kind=kind)
    user = make_user()
    add_member(user, collectivite, "edition")
    login(client, user)
    return collectivite.id


def stored(cid: int, question_id: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Reponse.value).where(Reponse.collectivite_id == cid, Reponse.question_id == question_id))


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_every_proportion_question_takes_a_percentage(client, runner, app_context, corpus):
    load(runner, corpus)
    questions = db.session.scalars(select(Question).where(Question.type == "proportion", ~Question.archived)).all()
    assert questions, "the corpus has proportion questions"
    assert {q.type for q in db.session.scalars(select(Question))} <= {"binaire", "choix", "proportion"}
    for question in questions:
        assert not re.search(r"entre 0 et 1\b", question.description), f"{question.id} asks for another unit"
        cid = editor_for(client, question)
        url = f"/collectivites/{cid}/personnalisation/{question.id}"
        page = client.get(f"/collectivites/{cid}/personnalisation").get_data(as_text=True)
        dom = question.id.replace("_", "-")
        assert f'id="reponse-{dom}"' in page and "Un nombre de 0 à 100" in page

        for typed, proportion in ACCEPTED.items():
            response = client.post(url, data={"valeur": typed}, headers=HTMX)
            assert response.status_code == 200, (question.id, typed)
            assert stored(cid, question.id) == proportion, (question.id, typed)
        client.post(url, data={"valeur": "12,5"}, headers=HTMX)
        page = client.get(f"/collectivites/{cid}/personnalisation").get_data(as_text=True)
        assert re.search(rf'id="reponse-{dom}" name="valeur" value="12,5"', page)  # shown as typed, with its comma

        for typed in REFUSED:
            response = client.post(url, data={"valeur": typed}, headers=HTMX)
            html = response.get_data(as_text=True)
            assert response.status_code == 422, (question.id, typed)
            assert f'id="reponse-error-{dom}" role="alert">la part doit être un pourcentage entre 0 et 100' in html
            assert f'value="{typed}"' in html  # kept as typed
            assert "fr-input--error" in html
            assert stored(cid, question.id) == "0.125", (question.id, typed)  # nothing stored

        assert client.post(url, data={"valeur": ""}, headers=HTMX).status_code == 200
        assert stored(cid, question.id) is None  # an emptied field clears the answer


@pytest.mark.parametrize("corpus, question_id, action_id", [("demo", "voirie_part", "cae_2.1.1"),
                                                            ("2025", "AOM_2", "cae_4.1.1")])
def test_the_rules_read_the_percentage_as_a_proportion(client, runner, app_context, corpus, question_id, action_id):
    # Both rules are max(reponse(q), floor): 80 % must give the factor 0.8 (personnalisation.md §3.2).
    load(runner, corpus)
    cid = editor_for(client, db.session.get(Question, question_id))
    client.post(f"/collectivites/{cid}/personnalisation/{question_id}", data={"valeur": "80"}, headers=HTMX)
    assert consequences_for(cid)[action_id].potentiel_perso == pytest.approx(0.8)


def test_a_plain_form_post_refused_flashes_the_message(client, runner, app_context):
    load(runner, "demo")
    cid = editor_for(client, db.session.get(Question, "voirie_part"))
    response = client.post(f"/collectivites/{cid}/personnalisation/voirie_part", data={"valeur": "150"})
    assert response.status_code == 303
    assert "entre 0 et 100" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Reponse)) == 0


def test_a_question_not_asked_to_the_collectivite_is_404(client, runner, app_context):
    load(runner, "2025")
    cid = editor_for(client, db.session.get(Question, "dechets_4"))  # EPCI only: an EPCI is made
    commune = make_collectivite(kind="commune")
    user = make_user()
    add_member(user, commune, "edition")
    login(client, user)
    assert client.post(f"/collectivites/{commune.id}/personnalisation/dechets_4", data={"valeur": "40"},
                       headers=HTMX).status_code == 404
    assert stored(cid, "dechets_4") is None
