"""The scenario runner (app/scenarios.py) on the small tree: YAML mapping, comparisons, report."""
from pathlib import Path

import pytest

from app.scenarios import ScenarioReport, ScenarioResult, compare, load_scenario, run_scenarios
from app.scoring import QuestionSpec, ReferentielTree, RuleSet, Statut, build_scoring_content
from tests.unit.scoring.helpers import SMALL_TREE

CONTENT = build_scoring_content(
    [ReferentielTree("eci", {a: kids for a, (_, kids) in SMALL_TREE.items()},
                     {a: points for a, (points, _) in SMALL_TREE.items()}, 1)],
    [RuleSet("eci_2.2", desactivation="reponse(collecte, NON)"), RuleSet("eci_1", reduction="reponse(part)")],
    [QuestionSpec("collecte", "binaire"), QuestionSpec("part", "proportion")],
)

PASSING = """\
Test: désactivation par une réponse YAML booléenne
Collectivité:
  type: [EPCI]
Réponses:
  collecte: no
  part: 1
Statuts:
  eci_1.1.1: fait
  eci_1.1.2: [0.5, 0.25, 0.25]
  eci_1.2.1: non_concerne
  eci_1.2.2: non_renseigne
Scores:
  eci_2.2:
    test: un commentaire
    desactive: true
    point_potentiel: 0
    point_potentiel_perso: null
  eci_1.1:
    point_fait: 7.5
    completed_taches_count: 2
  eci_1.2.2:
    point_potentiel: 15.0
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_is_mapped_like_the_reference_runner(tmp_path):
    scenario = load_scenario(write(tmp_path, "a.test.yml", PASSING))
    assert scenario.reponses == {"collecte": "NON", "part": 1.0}
    assert scenario.identite.type == frozenset({"EPCI"}) and scenario.identite.population == frozenset()
    assert scenario.statuts == [
        Statut("eci_1.1.1", (1.0, 0.0, 0.0), True), Statut("eci_1.1.2", (0.5, 0.25, 0.25), True),
        Statut("eci_1.2.1", None, False), Statut("eci_1.2.2", None, True),
    ]
    assert "test" not in scenario.scores["eci_2.2"]


def test_passing_scenario(tmp_path):
    report = run_scenarios(CONTENT, write(tmp_path, "a.test.yml", PASSING))
    assert report.lines() == ["1 passed, 0 failed"] and report.exit_code == 0


def test_failures_list_each_mismatch_then_the_totals(tmp_path):
    write(tmp_path, "ok/a.test.yml", PASSING)
    write(tmp_path, "ok/ignored.bug.yml", "Test: [unreadable")
    bad = PASSING.replace("point_fait: 7.5", "point_fait: 7.4").replace(
        "  eci_1.2.2:\n", "  eci_9:\n    concerne: true\n  eci_1.2.2:\n    concerne: 1\n    inconnu: 3\n")
    bad_path = write(tmp_path, "z/b.test.yml", bad)
    report = run_scenarios(CONTENT, tmp_path)
    assert report.exit_code == 1
    assert report.lines() == [
        str(bad_path),
        "  eci_1.1 point_fait : attendu 7.4, obtenu 7.5",
        "  eci_9 action_id : attendu une action du contenu, obtenu inconnue",
        "  eci_1.2.2 concerne : attendu 1, obtenu true",
        "  eci_1.2.2 inconnu : attendu 3, obtenu champ inconnu",
        "1 passed, 1 failed",
    ]


@pytest.mark.parametrize("text, line", [
    ("Test: x\nScores:\n  eci: [1, 2\n", 4),
    ("Test: x\n", 1),
    ("- a list\n", 1),
    ("Test: x\nStatuts:\n  eci_1: [0.5, 0.5]\nScores: {}\n", 1),
])
def test_unreadable_files_exit_2_naming_file_and_line(tmp_path, text, line):
    path = write(tmp_path, "bad.test.yml", text)
    report = run_scenarios(CONTENT, tmp_path)
    assert report.exit_code == 2
    assert report.lines()[0].startswith(f"{path}:{line}: ")


def test_missing_path_exits_2(tmp_path):
    assert run_scenarios(CONTENT, tmp_path / "absent").exit_code == 2


def test_rule_failure_fails_the_scenario_not_the_run(tmp_path):
    path = write(tmp_path, "a.test.yml", PASSING.replace("part: 1", "part: OUI"))
    report = run_scenarios(CONTENT, path)
    assert report.failed == 1 and "personnalisation impossible" in report.lines()[1]


@pytest.mark.parametrize("expected, actual, field, same", [
    (1.0, 1.0 + 1e-10, "point_fait", True),
    (1.0, 1.0 + 1e-8, "point_fait", False),
    (0, 0.0, "point_fait", True),
    (None, None, "point_potentiel_perso", True),
    (None, 0.0, "point_potentiel_perso", False),
    (0.0, None, "point_potentiel_perso", False),
    (True, 1, "concerne", False),
    (True, True, "concerne", True),
    (3, 3, "total_taches_count", True),
    (3, 3.0000000001, "total_taches_count", False),
])
def test_compare(expected, actual, field, same):
    assert compare(expected, actual, field) is same


def test_empty_report():
    assert ScenarioReport([]).lines() == ["0 passed, 0 failed"]
    assert ScenarioResult(Path("x")).passed
