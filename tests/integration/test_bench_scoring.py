"""`flask bench scoring` with tiny parameters: every line and the full-result table are printed."""
import re

from benchmarks import scoring as bench_scoring
from benchmarks.cli import bench_cli


def test_bench_scoring_prints_the_full_result_against_the_columns(runner, monkeypatch):
    monkeypatch.setattr(bench_scoring, "MAX_RUNS", 3)
    result = runner.invoke(bench_cli, ["scoring"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for label in ("score CAE (colonnes seules)", "score ECI (colonnes seules)", "personnalisation ("):
        assert any(line.startswith(label) for line in lines), result.output
    assert "Gain sur le moteur 2025 ≈ 96 / ratio ; cible ≥ 30×" in result.output
    for ref in ("CAE", "CAE CPU", "ECI", "ECI CPU"):
        # référentiel, columns p50 p95, full p50 p95, ratio p50 p95, implied speed-up p50 p95
        row = next(line for line in lines if re.match(rf"{ref} +\d", line))
        assert re.fullmatch(rf"{ref} +(\d+\.\d+ +){{6}}(≈ \d+×[✗ ] *){{2}}", row), row
