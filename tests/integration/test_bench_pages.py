"""`flask bench pages` runs end to end on SQLite (one timed request per row, so that it cannot
rot): the table lists every section's rows, an absent page as "absent"."""
from click.testing import CliRunner

from benchmarks import pages
from benchmarks.pages import Row, bench_pages_command


def test_the_bench_prints_each_sections_rows(monkeypatch):
    def later_area(bench):  # what a later issue appends to SECTIONS
        return [bench.page_row("Page à venir", f"{bench.base()}/page-a-venir", 50), Row("Mesure lente", 1, [5.0, 7.0])]

    monkeypatch.setattr(pages, "SECTIONS", [*pages.SECTIONS, later_area])
    result = CliRunner().invoke(bench_pages_command, ["--backend", "sqlite", "--iterations", "1", "--max-seconds", "0.1"])
    assert result.exit_code == 0, result.output
    lines = {line.split("  ")[0]: line for line in result.output.splitlines()}
    assert "SQLite — CAE 2025, 271 statuts du jeu de mesure" in result.output
    assert lines["Export XLSX du référentiel"].split()[4] == "1"  # one timed request
    assert "absent" not in lines["Figer l'état d'une date passée"]
    assert "absent" in lines["Page à venir"]
    assert lines["Mesure lente"].endswith("MANQUÉ")
