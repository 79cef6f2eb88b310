"""Keyboard use of the statut control and of the personnalisation answers, in a real browser:
arrowing through the options saves the value the user stops on, once; the focus stays on the
control used after htmx swaps it; a percentage is typed with a comma and refused with a message."""
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActionStatut, HistoryEntry, Question, QuestionChoix, Reponse
from tests.browser.test_live_statut import log_in
from tests.suivi_content import make_editor, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
KEY_GAP_MS = 150  # a person pressing an arrow key again, well within the control's settle delay
SETTLE_MS = 2_500  # longer than the settle delay: any other request would have gone by then
CLOCK_START = datetime(2026, 1, 5, 9, 0)


def record_posts(page) -> list[str]:
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    return posts


def press(page, key: str, times: int) -> None:
    for _ in range(times):
        page.keyboard.press(key)
        page.wait_for_timeout(KEY_GAP_MS)


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def history_count(collectivite_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(HistoryEntry)
                             .where(HistoryEntry.collectivite_id == collectivite_id))


def arrow_through_statut(page, cid: int, steps: int) -> list[str]:
    """On tâche 1.2.1's page, arrow `steps` options down its statut select (from the keyboard)
    and wait for the request; returns the POSTs sent from the first key on."""
    page.goto(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.2.1")
    posts = record_posts(page)
    page.focus("#statut-eci-1-2-1")
    with page.expect_response(re.compile(r"/actions/eci_1\.2\.1/statut$")):
        press(page, "ArrowDown", steps)
    return posts


@pytest.fixture
def editor_page(page, tiny_content):
    user, collectivite = make_editor()
    log_in(page, user)
    return page, collectivite.id


def test_arrowing_through_the_statut_select_saves_once_and_keeps_the_focus(editor_page):
    page, cid = editor_page
    posts = arrow_through_statut(page, cid, 4)  # Fait, Programmé, Pas fait, Non concerné
    page.wait_for_timeout(SETTLE_MS)

    assert len(posts) == 1
    db.session.expire_all()
    saved = db.session.scalar(select(ActionStatut).where(ActionStatut.collectivite_id == cid))
    assert (saved.action_id, saved.concerne) == ("eci_1.2.1", False)
    assert history_count(cid) == 1
    expect(page.locator("#statut-eci-1-2-1")).to_have_value("non_concerne")
    assert focused_id(page) == "statut-eci-1-2-1"


def test_detaille_by_keyboard_keeps_the_focus_through_both_swaps(editor_page):
    page, cid = editor_page
    posts = arrow_through_statut(page, cid, 5)  # … Détaillé: opens the percentages, saves nothing
    expect(page.locator("#statut-eci-1-2-1-fait")).to_be_visible()
    assert focused_id(page) == "statut-eci-1-2-1"

    for value in ("50", "25,5", "24,5"):  # French decimal commas
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    assert focused_id(page) == "statut-eci-1-2-1-pas_fait"
    with page.expect_response(re.compile(r"/statut$")):
        page.keyboard.press("Enter")
    expect(page.locator("#statut-eci-1-2-1-programme")).to_have_value("25,5")
    assert focused_id(page) == "statut-eci-1-2-1-pas_fait"

    with page.expect_response(re.compile(r"/statut$")):
        page.click("#statut-eci-1-2-1-enregistrer")  # unchanged: saves nothing more
    assert focused_id(page) == "statut-eci-1-2-1-enregistrer"
    page.wait_for_timeout(SETTLE_MS)
    assert len(posts) == 3 and history_count(cid) == 1
    db.session.expire_all()
    saved = db.session.scalar(select(ActionStatut).where(ActionStatut.collectivite_id == cid))
    assert (saved.avancement, saved.fait, saved.programme, saved.pas_fait) == ("detaille", 0.5, 0.255, 0.245)


def test_the_percentages_answer_the_keyboard_as_soon_as_they_show(editor_page):
    """htmx wires a swapped-in form when the swap settles (a timer): a key pressed before that, on
    a busy page or by a fast typist, posted the form without htmx and reloaded the page, the focus
    lost. Timers are frozen here, so a settle timer would never come."""
    page, cid = editor_page
    page.clock.install(time=CLOCK_START)
    page.goto(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.2.1")
    page.clock.pause_at(CLOCK_START + timedelta(minutes=1))
    page.locator("#statut-eci-1-2-1").select_option("detaille")
    with page.expect_response(re.compile(r"/actions/eci_1\.2\.1/statut$")):
        page.clock.run_for(1_000)  # the select's settle delay
    for name, value in (("fait", "50"), ("programme", "25,5"), ("pas_fait", "24,5")):
        page.fill(f"#statut-eci-1-2-1-{name}", value)
    with page.expect_request(re.compile(r"/statut$")) as sent:
        page.keyboard.press("Enter")
    assert sent.value.headers.get("hx-request") == "true"
    expect(page.locator("#statut-eci-1-2-1-programme")).to_have_value("25,5")
    assert focused_id(page) == "statut-eci-1-2-1-pas_fait"


def test_arrowing_through_personnalisation_radios_saves_once_and_keeps_the_focus(editor_page):
    page, cid = editor_page
    question = Question(id="eclairage", type="choix", formulation="Qui gère l'éclairage public ?",
                        thematique_id="energie")
    question.choix = [QuestionChoix(id=f"eclairage_{letter}", formulation=f"Choix {letter}", position=n)
                      for n, letter in enumerate("abc")]
    db.session.add(question)
    db.session.commit()
    page.goto(f"/collectivites/{cid}/personnalisation")
    posts = record_posts(page)
    page.focus("#reponse-eclairage-1")
    with page.expect_response(re.compile(r"/personnalisation/eclairage$")):
        press(page, "ArrowDown", 3)  # b, c, then a again: each step checks a radio
    page.wait_for_timeout(SETTLE_MS)

    assert len(posts) == 1 and history_count(cid) == 1
    db.session.expire_all()
    assert db.session.scalar(select(Reponse.value).where(Reponse.collectivite_id == cid)) == "eclairage_a"
    expect(page.locator("#reponse-eclairage-1")).to_be_checked()
    assert focused_id(page) == "reponse-eclairage-1"


def test_a_percentage_is_typed_with_a_comma_and_refused_out_of_range_with_a_message(editor_page):
    page, cid = editor_page
    db.session.add(Question(id="part_bio", type="proportion", formulation="Part de bio ?", thematique_id="alimentation"))
    db.session.commit()
    page.goto(f"/collectivites/{cid}/personnalisation")
    field = page.locator("#reponse-part-bio")
    field.fill("150")
    with page.expect_response(re.compile(r"/personnalisation/part_bio$")) as refused:
        field.press("Enter")
    assert refused.value.status == 422
    expect(page.locator("#reponse-error-part-bio")).to_contain_text("entre 0 et 100")
    expect(field).to_have_value("150")  # kept as typed
    assert focused_id(page) == "reponse-part-bio"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Reponse)) == 0

    field.fill("12,5")
    with page.expect_response(re.compile(r"/personnalisation/part_bio$")):
        field.press("Enter")
    expect(page.locator("#reponse-error-part-bio")).to_have_count(0)
    expect(field).to_have_value("12,5")
    db.session.expire_all()
    assert db.session.scalar(select(Reponse.value)) == "0.125"
    expect(page.locator("label[for=reponse-part-bio]")).to_contain_text("de 0 à 100")  # the unit, said once
