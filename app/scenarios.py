"""Scenario files (`*.test.yml`, shared/spec/scenarios.md): read them, score, compare, report.

Reads YAML, so it lives outside app/scoring; scores with a ScoringContent built by the caller
(from the database or straight from a content folder, see app/services/scoring_content.py).
"""
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.scoring import SCORE_FIELDS, FormulaError, Identite, ScoringContent, Statut, score_referentiel
from app.scoring.avancement import AVANCEMENT_FRACTIONS

COUNT_FIELDS = {"total_taches_count", "completed_taches_count"}
NUMBER_TOLERANCE = 1e-9

# Scenario files are large (up to ~1 MB): libyaml's loader is 3-4x faster when installed.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioFileError(Exception):
    """A scenario file that cannot be read; str() is `path:line: message`."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Scenario:
    path: Path
    identite: Identite
    reponses: dict[str, str | float]
    statuts: list[Statut]
    scores: dict[str, dict[str, object]]  # action id -> expected fields


@dataclass(frozen=True)
class Mismatch:
    action_id: str
    field: str
    expected: object
    actual: object

    def __str__(self) -> str:
        return f"  {self.action_id} {self.field} : attendu {_shown(self.expected)}, obtenu {_shown(self.actual)}"


@dataclass
class ScenarioResult:
    path: Path
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None  # the scenario could not be evaluated (e.g. a rule failed)

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


@dataclass
class ScenarioReport:
    results: list[ScenarioResult]
    file_errors: list[str] = field(default_factory=list)  # `path:line: message`; nothing was run

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def exit_code(self) -> int:
        if self.file_errors:
            return 2
        return 1 if self.failed else 0

    def lines(self) -> list[str]:
        if self.file_errors:
            return list(self.file_errors)
        lines = []
        for result in self.results:
            if result.passed:
                continue
            lines.append(str(result.path))
            if result.error:
                lines.append(f"  erreur : {result.error}")
            lines.extend(str(mismatch) for mismatch in result.mismatches)
        lines.append(f"{self.passed} passed, {self.failed} failed")
        return lines


def _shown(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def find_scenario_files(path: Path) -> list[Path]:
    """`.test.yml` files of a folder (recursively, sorted) or the file itself."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.test.yml") if p.is_file())
    if path.is_file():
        return [] if path.name.endswith(".bug.yml") else [path]
    raise ScenarioFileError(path, 0, "fichier ou dossier introuvable")


def load_scenario(path: Path) -> Scenario:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as error:
        raise ScenarioFileError(path, 0, f"lecture impossible ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ScenarioFileError(path, 0, "le fichier n'est pas en UTF-8") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise ScenarioFileError(path, line, f"YAML invalide : {getattr(error, 'problem', error)}") from None

    def fail(message: str):
        raise ScenarioFileError(path, 1, message)

    if not isinstance(data, dict):
        fail("un scénario est un dictionnaire (clés Test, Collectivité, Réponses, Statuts, Scores)")
    for key in ("Test", "Scores"):
        if key not in data:
            fail(f"clé obligatoire manquante : {key}")
    collectivite = _mapping(data.get("Collectivité"), "Collectivité", fail)
    scores = _mapping(data["Scores"], "Scores", fail)
    for action_id, expected in scores.items():
        if not isinstance(expected, dict):
            fail(f"Scores : {action_id} doit lister des champs")
    return Scenario(
        path=path,
        identite=Identite(*(_tags(collectivite.get(key), key, fail) for key in ("type", "population", "localisation"))),
        reponses={
            str(q): _reponse(value)
            for q, value in _mapping(data.get("Réponses"), "Réponses", fail).items()
            if value is not None  # an empty answer is no answer
        },
        statuts=[_statut(str(a), value, fail) for a, value in _mapping(data.get("Statuts"), "Statuts", fail).items()],
        scores={str(a): {k: v for k, v in expected.items() if k != "test"} for a, expected in scores.items()},
    )


def _mapping(value, key: str, fail) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(f"{key} doit être un dictionnaire")
    return value


def _tags(value, key: str, fail) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    if not isinstance(value, list):
        fail(f"Collectivité : {key} doit être une liste")
    return frozenset(str(tag) for tag in value)


def _reponse(value) -> str | float:
    if isinstance(value, bool):  # YAML yes/no/true/false
        return "OUI" if value else "NON"
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def _statut(action_id: str, value, fail) -> Statut:
    if isinstance(value, list):
        if len(value) != 3 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
            fail(f"Statuts : {action_id} attend [fait, programme, pas_fait] (trois nombres)")
        return Statut(action_id, tuple(float(x) for x in value), True)
    if value in AVANCEMENT_FRACTIONS:
        return Statut(action_id, AVANCEMENT_FRACTIONS[value], True)
    return Statut(action_id, None, value != "non_concerne")


def compare(expected: object, actual: object, field_name: str) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if field_name in COUNT_FIELDS:
        return expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=0.0, abs_tol=NUMBER_TOLERANCE)
    return expected == actual


def run_scenario(content: ScoringContent, scenario: Scenario) -> ScenarioResult:
    result = ScenarioResult(scenario.path)
    try:
        consequences = content.consequences(scenario.identite, scenario.reponses)
    except FormulaError as error:
        result.error = f"personnalisation impossible : {error}"
        return result
    tables = {}
    for action_id, expected_fields in scenario.scores.items():
        referentiel = next((ref for ref, tree in content.trees.items() if action_id in tree.index), None)
        if referentiel is None:
            result.mismatches.append(Mismatch(action_id, "action_id", "une action du contenu", "inconnue"))
            continue
        if referentiel not in tables:
            tables[referentiel] = score_referentiel(content.trees[referentiel], scenario.statuts, consequences)
        record = tables[referentiel][action_id]
        for field_name, expected in expected_fields.items():
            if field_name not in SCORE_FIELDS:
                result.mismatches.append(Mismatch(action_id, str(field_name), expected, "champ inconnu"))
            elif not compare(expected, actual := getattr(record, field_name), field_name):
                result.mismatches.append(Mismatch(action_id, field_name, expected, actual))
    return result


def run_scenarios(content: ScoringContent, path: Path) -> ScenarioReport:
    """Runs nothing (and reports every unreadable file) if one file cannot be read."""
    scenarios, errors = [], []
    try:
        files = find_scenario_files(path)
    except ScenarioFileError as error:
        return ScenarioReport([], [str(error)])
    for file in files:
        try:
            scenarios.append(load_scenario(file))
        except ScenarioFileError as error:
            errors.append(str(error))
    if errors:
        return ScenarioReport([], errors)
    return ScenarioReport([run_scenario(content, scenario) for scenario in scenarios])
