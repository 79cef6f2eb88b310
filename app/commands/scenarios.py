"""`flask content test PATH`: run scenario files (*.test.yml) against the content in the database.

Output and exit status as shared/spec/scenarios.md says: per failing file its path then one line
per mismatch, last line `N passed, M failed`; exit 0 / 1, or 2 when a file can't be read.
"""
import sys
from pathlib import Path

import click

from app.commands import content_cli
from app.extensions import db
from app.scenarios import run_scenarios
from app.services.scoring_content import scoring_content_from_db


@content_cli.command("test")
@click.argument("path", type=click.Path(path_type=Path))
def test_command(path: Path) -> None:
    """Exécute les scénarios (.test.yml) d'un fichier ou d'un dossier sur le contenu chargé."""
    content = scoring_content_from_db(db.session)
    if content is None:
        click.echo("Aucun contenu chargé : lancez d'abord `flask content load`.", err=True)
        sys.exit(2)
    report = run_scenarios(content, path)
    for line in report.lines():
        click.echo(line, err=report.exit_code == 2)
    sys.exit(report.exit_code)
