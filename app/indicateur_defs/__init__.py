"""Indicateur definitions as content: parse (parse.py, pure) -> validate (validate.py, pure) ->
store (store.py, the only module touching models). Two inputs: the catalogue CSV and a 2022
markdown directory (`<groupe>/*.md`).

`read_definitions(path, known_ids, action_ids)` -> (definitions, errors and warnings), no database.
"""
from pathlib import Path

from app.indicateur_defs.model import Definition, LoadError
from app.indicateur_defs.parse import parse_csv, parse_markdown
from app.indicateur_defs.validate import validate

__all__ = ["Definition", "LoadError", "read_definitions"]


def read_definitions(path: Path, known_ids: set[str], action_ids: set[str]) -> tuple[list[Definition], list[LoadError]]:
    path = Path(path)
    if path.is_dir():
        definitions, errors = [], []
        for file in sorted(path.glob("*/*.md")):
            found, problems = parse_markdown(str(file), file.parent.name, file.read_text(encoding="utf-8"))
            definitions += found
            errors += problems
    elif path.is_file():
        definitions, errors = parse_csv(str(path), path.read_text(encoding="utf-8"))
    else:
        return [], [LoadError(str(path), 0, "fichier ou dossier introuvable")]
    return definitions, errors + validate(definitions, known_ids, action_ids)
