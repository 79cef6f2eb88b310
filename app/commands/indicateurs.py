"""`flask indicateurs load-definitions FILE`: a catalogue CSV or a 2022 markdown directory
(`<groupe>/*.md`). Prints the warnings, then either the errors (exit 1, nothing written) or, as
its last line, `N définitions`."""
import sys
from pathlib import Path

import click

from app.commands import indicateurs_cli
from app.services.indicateurs import load_definitions


@indicateurs_cli.command("load-definitions")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def load_definitions_command(path: Path) -> None:
    """Vérifie puis charge des définitions d'indicateurs (CSV du catalogue ou dossier markdown 2022)."""
    count, problems = load_definitions(path)
    for problem in problems:
        click.echo(str(problem))
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        click.echo(f"{len(errors)} erreur(s), rien n'a été chargé.")
        sys.exit(1)
    click.echo(f"{count} définitions")
