"""Which kind of content a file holds, from where it sits in the content directory.

    referentiels/<ref>/*.md            one référentiel per folder (kind "referentiel")
    referentiels/thematiques*/*.md     the Climat Pratic thématiques (kind "thematiques")
    questions/*.md                     questions
    personnalisations/*.md             personnalisation rules (kind "regles")
    indicateurs/<groupe>/*.md          indicateurs, grouped by folder
    preuves/*.md                       preuves expected by the actions

Any other file is not content and is ignored. Pure: standard library only.
"""
from pathlib import PurePosixPath

# Headings (snake-cased) that open a list of child nodes, per kind (spec content-format §2).
KEYWORDS = {
    "referentiel": frozenset({"actions"}),
    "questions": frozenset({"questions", "choix"}),
    "regles": frozenset({"personnalisation", "regles"}),
}
_FLAT_FOLDERS = {"questions": "questions", "personnalisations": "regles", "preuves": "preuves"}


def kind_of(relative_path: str) -> str | None:
    path = PurePosixPath(relative_path)
    if path.suffix != ".md":
        return None
    parts = path.parts
    if len(parts) == 2:
        return _FLAT_FOLDERS.get(parts[0])
    if len(parts) == 3 and parts[0] == "referentiels":
        return "thematiques" if parts[1].startswith("thematiques") else "referentiel"
    if len(parts) == 3 and parts[0] == "indicateurs":
        return "indicateurs"
    return None


def folder_name(relative_path: str) -> str:
    """`referentiels/cae/1.md` -> `cae`; `indicateurs/crte/x.md` -> `crte`."""
    return PurePosixPath(relative_path).parent.name
