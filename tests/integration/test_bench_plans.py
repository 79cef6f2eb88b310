"""`flask bench plans` with tiny parameters: both rows are printed (p50, p95, CPU p50) with their targets,
then the machine's load."""
import re

from benchmarks import plans as bench_plans
from benchmarks.cli import bench_cli


def test_bench_plans_prints_the_page_and_the_export(runner, monkeypatch):
    monkeypatch.setattr(bench_plans, "FICHES", 20)
    monkeypatch.setattr(bench_plans, "RUNS", {"page": 2, "export": 2})
    result = runner.invoke(bench_cli, ["plans"])
    assert result.exit_code == 0, result.output
    for label, target in (("page d'un plan de 20 fiches", "60"), ("export XLSX de 20 fiches", "1000")):
        assert re.search(rf"^{label} +\d+\.\d +\d+\.\d +\d+\.\d +≤ {target}", result.output, re.M), result.output
    assert re.search(r"^charge moyenne de la machine \(1 min\) : \d+\.\d pour \d+ CPU", result.output, re.M)
