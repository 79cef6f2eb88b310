"""`flask bench labellisation` runs end to end (one timed call per row, so that it cannot rot)."""
from click.testing import CliRunner

from benchmarks.labellisation import bench_labellisation_command


def test_the_bench_prints_its_rows():
    result = CliRunner().invoke(bench_labellisation_command, ["--iterations", "1", "--max-seconds", "0.1"])
    assert result.exit_code == 0, result.output
    labels = [line.split("  ")[0] for line in result.output.splitlines()[3:-1]]
    assert labels == ["What-if, moteur seul", "What-if, bac à sable", "What-if, requête htmx", "Chemin, moteur", "Chemin, page"]
