"""`flask bench scoring`: median and p95 times of the scoring engine on shared/benchmark.

Rows: full scoring of CAE and of ECI for the real collectivité of shared/benchmark (271 statuts,
59 consequences), the same plus every node's rounded values (ScoreTable.rows), and the personnalisation of one
collectivité (identity and answers of a shared scenario) with all rules of the 2025 corpus.
"""
import json
import statistics
import time
from pathlib import Path

import click
from flask import current_app

from app.commands import bench_cli
from app.content_loader import check_dir
from app.scenarios import STATUT_AVANCEMENTS, load_scenario
from app.scoring import Consequence, ReferentielTree, Statut, prepare_tree, score_referentiel
from app.services.scoring_content import scoring_content_from_content

ACTION_LEVELS = {"cae": 3, "eci": 2}
MAX_RUNS = 2000
MAX_SECONDS_PER_ROW = 3.0
PERSONNALISATION_SCENARIO = "visible_001_cae.test.yml"


def _shared_dir() -> Path:
    return Path(current_app.root_path).parent.parent / "shared"


def _timings(function) -> list[float]:
    """Milliseconds per call; at most MAX_RUNS calls or MAX_SECONDS_PER_ROW seconds."""
    function()  # warm-up
    timings, deadline = [], time.perf_counter() + MAX_SECONDS_PER_ROW
    while len(timings) < MAX_RUNS and time.perf_counter() < deadline:
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _benchmark_inputs(folder: Path):
    def read(name):
        return json.loads((folder / name).read_text(encoding="utf-8"))

    points = {entry["action_id"]: entry["value"] for entry in read("computed_points.json")}
    trees = {}
    for ref, level in ACTION_LEVELS.items():
        children = {e["id"]: sorted(e["children"] or []) for e in read("business_action_children.json") if e["referentiel"] == ref}
        tree = ReferentielTree(ref, children, {a: points[a] for a in children}, level)
        trees[ref] = prepare_tree(tree.children, tree.points, tree.action_level)
    statuts = [
        Statut(s["action_id"], STATUT_AVANCEMENTS.get(s["avancement"]), bool(s["concerne"]))
        for s in read("action_statut.json")
    ]
    consequences = {
        action_id: Consequence(c.get("desactive"), c.get("potentiel_perso"), c.get("score_formule"))
        for action_id, c in read("consequences.json").items()
    }
    return trees, statuts, consequences


@bench_cli.command("scoring")
def bench_scoring_command() -> None:
    """Temps du moteur de score (médiane et p95, en ms)."""
    shared = _shared_dir()
    trees, statuts, consequences = _benchmark_inputs(shared / "benchmark")
    content, errors = check_dir(shared / "referentiels" / "2025" / "markdown")
    if errors:
        raise click.ClickException(f"corpus 2025 invalide ({len(errors)} erreurs) : {errors[0]}")
    scoring_content = scoring_content_from_content(content)
    scenario = load_scenario(shared / "scenarios" / PERSONNALISATION_SCENARIO)

    # Each référentiel is scored with its own statuts and consequences, as the app stores them.
    inputs = {
        ref: ([s for s in statuts if s.action_id.startswith(ref)],
              {a: c for a, c in consequences.items() if a.startswith(ref)})
        for ref in trees
    }

    def score(ref):
        return lambda: score_referentiel(trees[ref], *inputs[ref])

    def score_and_build(ref):
        return lambda: score_referentiel(trees[ref], *inputs[ref]).rows()

    rows = [
        ("score CAE", score("cae"), 1.0),
        ("score ECI", score("eci"), 0.2),
        ("score CAE + toutes les lignes arrondies", score_and_build("cae"), None),
        ("score ECI + toutes les lignes arrondies", score_and_build("eci"), None),
        (
            f"personnalisation ({len(scoring_content.rules.rule_sets)} actions à règles)",
            lambda: scoring_content.consequences(scenario.identite, scenario.reponses),
            1.0,
        ),
    ]
    click.echo(f"{'mesure':<42} {'médiane ms':>11} {'p95 ms':>9} {'cible ms':>9} {'n':>6}")
    for label, function, target in rows:
        timings = sorted(_timings(function))
        p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
        shown_target = f"{target:.1f}" if target else "-"
        click.echo(f"{label:<42} {statistics.median(timings):>11.3f} {p95:>9.3f} {shown_target:>9} {len(timings):>6}")
