"""`flask export referentiel COLLECTIVITE_ID REFERENTIEL --format xlsx|csv -o FILE`: the state of
a collectivité on a référentiel, as the download of the pages gives it."""
import sys
from typing import NoReturn
from pathlib import Path

import click

from app.commands import export_cli
from app.services.exports import FORMATS, ExportUnavailable, export_referentiel


def _fail(message: str) -> NoReturn:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(1)


@export_cli.command("referentiel")
@click.argument("collectivite_id")
@click.argument("referentiel")
@click.option("--format", "file_format", type=click.Choice(sorted(FORMATS)), default="xlsx", show_default=True,
              help="Format du fichier.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Fichier à écrire (par défaut : tet-<collectivité>-<référentiel>-<date>.<format>, ici).")
def export_referentiel_command(collectivite_id: str, referentiel: str, file_format: str, output: Path | None) -> None:
    """Une ligne par nœud du référentiel : statut, points, % réalisé, preuves, précision."""
    if not collectivite_id.isdigit():
        _fail(f"l'identifiant de collectivité doit être un nombre entier, pas « {collectivite_id} »")
    try:
        export = export_referentiel(int(collectivite_id), referentiel, file_format)
    except ExportUnavailable as error:
        _fail(str(error))
    output = output or Path(export.filename)
    try:
        output.write_bytes(export.data)
    except OSError as error:
        _fail(f"impossible d'écrire {output} : {error.strerror}")
    click.echo(f"{output} : {export.row_count} lignes.")
