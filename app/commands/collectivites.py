"""`flask collectivites import DIR`: load the official lists of collectivités (idempotent)."""
from pathlib import Path

import click

from app.commands import collectivites_cli
from app.services.collectivites import DirectoryErrors, read_directory, upsert_collectivites

KIND_LABELS = {
    "region": "régions",
    "departement": "départements",
    "commune": "communes",
    "EPCI": "EPCI",
    "syndicat": "syndicats",
}


@collectivites_cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_collectivites(directory: Path) -> None:
    """Importe régions, départements, communes et groupements depuis DIRECTORY (fichiers CSV)."""
    try:
        rows = read_directory(directory)
    except DirectoryErrors as error:
        for message in error.errors:
            click.echo(message, err=True)
        raise click.ClickException(f"{len(error.errors)} erreur(s) : rien n'a été importé.") from None
    with click.progressbar(length=len(rows), label="Import des collectivités") as bar:
        report = upsert_collectivites(rows, progress=bar.update)
    for kind, label in KIND_LABELS.items():
        click.echo(f"{label} : {report.counts[kind]}")
    click.echo(f"créées : {report.created}, mises à jour : {report.updated}")
