"""`flask content check [DIR]` and `flask content load [DIR]` (DIR defaults to CONTENT_DIR).

check: counts per kind, then one `path:line: message` per error; exit 1 when there are errors.
load:  the same check, then stores the content with a progress bar; prints counts and time.
"""
import sys
import time
from pathlib import Path

import click
from flask import current_app

from app.commands import content_cli
from app.content_loader import Content, ContentError, check_dir, content_files
from app.extensions import db

_dir_argument = click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))


def _content_dir(directory: Path | None) -> Path:
    return directory or Path(current_app.config["CONTENT_DIR"])


def _echo_counts(content: Content) -> None:
    click.echo(", ".join(f"{count} {kind}" for kind, count in content.counts().items()))


def _fail(errors: list[ContentError]) -> None:
    click.echo(f"{len(errors)} erreur(s) :")
    for error in errors:
        click.echo(str(error))
    sys.exit(1)


@content_cli.command("check")
@_dir_argument
def check_command(directory: Path | None) -> None:
    """Vérifie le contenu markdown sans rien écrire."""
    root = _content_dir(directory)
    content, errors = check_dir(root)
    click.echo(f"Contenu {root} :")
    _echo_counts(content)
    if errors:
        _fail(errors)
    click.echo("Aucune erreur.")


@content_cli.command("load")
@_dir_argument
def load_command(directory: Path | None) -> None:
    """Vérifie puis charge le contenu markdown dans la base (une seule transaction)."""
    from app.content_loader.store import store, total_steps

    root = _content_dir(directory)
    started = time.perf_counter()
    with click.progressbar(length=len(content_files(root)) if root.is_dir() else 0, label="Lecture       ") as bar:
        content, errors = check_dir(root, progress=bar.update)
    if errors:
        click.echo(f"Contenu {root} invalide, rien n'a été chargé.")
        _fail(errors)
    with click.progressbar(length=total_steps(content), label="Enregistrement") as bar:
        report = store(db.session, content, str(root.resolve()), progress=bar.update)
    _echo_counts(content)
    if report.removed_ids:
        click.echo(f"{len(report.removed_ids)} élément(s) absent(s) de cette édition, archivé(s) "
                   f"(données des collectivités conservées) : {', '.join(report.removed_ids)}")
    _load_indicateurs(root / "indicateurs")
    click.echo(f"Contenu {report.status} en {time.perf_counter() - started:.2f} s.")


def _load_indicateurs(folder: Path) -> None:
    """The indicateur definitions of the content (its markdown, then its catalogue CSV if any)."""
    from app.services.indicateurs import load_definitions

    for path in (folder, folder / "catalogue.csv"):
        if path.exists():
            count, problems = load_definitions(path)
            errors = [problem for problem in problems if not problem.warning]
            if errors:
                click.echo(f"Indicateurs {path} invalides, non chargés.")
                _fail(errors)
            click.echo(f"{count} définitions d'indicateurs ({path.name})")
