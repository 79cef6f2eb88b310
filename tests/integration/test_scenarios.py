"""Scenario files against real content: every shared scenario on the 2025 corpus (pure path,
then through `flask content test` after `flask content load`), and the demo content's own."""
from pathlib import Path

import pytest

from app.content_loader import check_dir
from app.scenarios import load_scenario, run_scenario, run_scenarios
from app.scoring import Identite
from app.services.scoring_content import scoring_content_from_content

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = PROJECT_ROOT.parent / "shared"
CORPUS_2025 = SHARED / "referentiels" / "2025" / "markdown"
SHARED_SCENARIOS = sorted((SHARED / "scenarios").glob("*.test.yml"))


def content_of(root: Path):
    content, errors = check_dir(root)
    assert errors == [], errors[:5]
    return scoring_content_from_content(content)


@pytest.fixture(scope="module")
def corpus_2025():
    return content_of(CORPUS_2025)


def test_the_shared_scenarios_are_there(shared_dir):
    assert len(SHARED_SCENARIOS) >= 20


@pytest.mark.parametrize("path", SHARED_SCENARIOS, ids=lambda path: path.name)
def test_shared_scenario_passes_on_the_2025_corpus(corpus_2025, path):
    result = run_scenario(corpus_2025, load_scenario(path))
    assert result.passed, [str(mismatch) for mismatch in result.mismatches[:20]] + [result.error]


def test_without_answers_nor_identity_only_two_actions_are_desactivees(corpus_2025):
    consequences = corpus_2025.consequences(Identite(), {})
    assert len(consequences) == 105
    assert sorted(a for a, c in consequences.items() if c.desactive) == ["eci_1.2.4", "eci_4.2.5"]
    assert all(c.potentiel_perso is None for c in consequences.values())


def test_every_rule_of_the_corpus_is_checked_and_valid(corpus_2025):
    # check_dir runs check_rule on every rule; the corpus has none faulty (score rule included).
    assert len(corpus_2025.rules.rule_sets) == 105


def test_demo_content_scenarios_pass():
    root = PROJECT_ROOT / "content"
    report = run_scenarios(content_of(root), root / "tests")
    assert report.exit_code == 0 and report.passed >= 1, report.lines()


def load_2025(runner) -> None:
    loaded = runner.invoke(args=["content", "load", str(CORPUS_2025)])
    assert loaded.exit_code == 0, loaded.output


def test_content_test_command_passes_the_shared_scenarios(runner, app_context):
    load_2025(runner)
    result = runner.invoke(args=["content", "test", str(SHARED / "scenarios")])
    assert result.output.splitlines()[-1] == f"{len(SHARED_SCENARIOS)} passed, 0 failed", result.output[-3000:]
    assert result.exit_code == 0


def test_content_test_command_failures_and_bad_files(runner, app_context, tmp_path):
    wrong = tmp_path / "wrong.test.yml"
    wrong.write_text("Test: faux\nScores:\n  eci:\n    point_referentiel: 499\n", encoding="utf-8")
    assert runner.invoke(args=["content", "test", str(tmp_path)]).exit_code == 2  # nothing loaded yet
    load_2025(runner)

    result = runner.invoke(args=["content", "test", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [str(wrong), "  eci point_referentiel : attendu 499, obtenu 500.0",
                                          "0 passed, 1 failed"]

    wrong.write_text("Test: faux\nScores: {eci: [\n", encoding="utf-8")
    result = runner.invoke(args=["content", "test", str(wrong)])
    assert result.exit_code == 2 and f"{wrong}:3:" in result.output
