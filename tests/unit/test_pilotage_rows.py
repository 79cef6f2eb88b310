"""The pilotage tables' rows built in Python (app/pilotage_rows.py) and the cached score slots."""
from datetime import date

from markupsafe import escape

from app.dashboards import PHASE_LABELS, MesureRow, Node, PriorisationRow, Score, Suivi
from app.pilotage_rows import mesures_rows_html, priorisation_rows_html
from app.score_slot import score_slot, score_slot_of
from app.scoring import SCORE_FIELDS
from app.services.scores import StoredScores

NODE = Node("cae_1.1.1.2", "cae_1.1.1", 4, "1.1.1.2", "Bâtiments <publics> & \"autres\"", "bases")
RECORD = {"point_referentiel": 2.0, "point_fait": 0.5, "point_programme": 0.25, "point_potentiel": 1.0,
          "concerne": True, "desactive": False}


def stored(records):
    return StoredScores({action_id: [record.get(name) for name in SCORE_FIELDS] for action_id, record in records.items()})


def test_mesures_rows_escape_the_names_and_show_the_edit_button_to_editors():
    row = MesureRow(NODE, "sous_action", "fait", None, None, Suivi("fait", True, 2, date(2025, 3, 31)), True)
    html = mesures_rows_html([row], stored({NODE.id: RECORD}), True, "/a/ACTION_ID", "/a/ACTION_ID/statut",
                             {"fait": "Fait"}, {"sous_action": "Sous-action"})
    assert 'id="mesures-row-cae-1-1-1-2"' in html
    assert '<a href="/a/cae_1.1.1.2">1.1.1.2 Bâtiments &lt;publics&gt; &amp; &#34;autres&#34;</a>' in html
    assert 'hx-get="/a/cae_1.1.1.2/statut" hx-target="#statuts-action_statut-cae-1-1-1-2"' in html
    assert "<td>Oui</td>" in html and '<td class="tet-number">2</td>' in html and "<td>31/03/2025</td>" in html
    assert score_slot(NODE.id, RECORD) in html and "potentiel réduit, 2 points au référentiel" in html
    reader = mesures_rows_html([row], stored({}), False, "/a/ACTION_ID", "/a/ACTION_ID/statut",
                               {"fait": "Fait"}, {"sous_action": "Sous-action"})
    assert "Modifier" not in reader and "score non calculé" in reader


def test_priorisation_rows():
    score = Score(referentiel=2.0, potentiel=1.0, fait=0.5, programme=0.25, pas_fait=0.0, non_renseigne=0.0)
    row = PriorisationRow(NODE, None, "bases", None, score, 0.25, 50.0, 25.0, "50", "1", "0-1")
    html = priorisation_rows_html([row], "/a/ACTION_ID", PHASE_LABELS, {})
    assert 'id="priorisation-row-cae-1-1-1-2"' in html and "&lt;publics&gt;" in html
    assert f"<td>{escape(PHASE_LABELS['bases'])}</td>" in html and "<td>—</td>" in html
    assert '<td class="tet-number">0,25</td>' in html and '<td class="tet-number">50 %</td>' in html


def test_a_cached_slot_is_the_slot_of_its_values():
    assert score_slot("cae_1", RECORD) is score_slot("cae_1", dict(RECORD))  # the same values: the cached slot
    assert score_slot("cae_1", {**RECORD, "point_fait": 1.0}) != score_slot("cae_1", RECORD)
    assert score_slot_of("cae_1", 0.5, 0.25, 1.0) == score_slot("cae_1", {"point_fait": 0.5, "point_programme": 0.25,
                                                                          "point_potentiel": 1.0})
