"""The expert /preview: one content file's text checked against the rest of CONTENT_DIR.

Nothing is stored: the text is parsed and validated in memory by the content loader, with that
file replaced (or added) in the directory, and turned into a tree ready to display.
"""
from dataclasses import dataclass, field
from pathlib import Path

from app.content_loader import Content, ContentError, Node, check_with_override, content_files, normalise_path
from app.content_loader.layout import folder_name

ERRORS_SHOWN = 100
NEW_FILE_PATH = "referentiels/cae/nouveau.md"
TEXT_MAX_LENGTH = 200_000  # characters; the largest real content file is ten times smaller


@dataclass(frozen=True)
class PreviewNode:
    """One titled entry of the file as it will be read, with the points the loader computed."""

    title: str | None
    line: int
    fields: dict
    sections: list[tuple[str, str]]
    formule: str | None
    after_code_html: str
    points: float | None
    children: list[tuple[str, list["PreviewNode"]]] = field(default_factory=list)


@dataclass(frozen=True)
class Preview:
    path: str
    kind: str | None
    nodes: list[PreviewNode]
    file_errors: list[ContentError]
    other_errors: list[ContentError]
    other_error_count: int


@dataclass(frozen=True)
class PreviewPage:
    files: list[str]
    path: str
    text: str
    preview: Preview


def open_file(root: str | Path, relative_path: str) -> PreviewPage | None:
    """The page for one file of the content directory (a blank new file when no path is given).

    None unless the path is one of the listed content files: no reading outside the directory.
    """
    files = _list_files(Path(root))
    if not relative_path:
        return PreviewPage(files, NEW_FILE_PATH, "", preview(root, NEW_FILE_PATH, ""))
    if relative_path not in files:
        return None
    text = (Path(root) / relative_path).read_text(encoding="utf-8")
    return PreviewPage(files, relative_path, text, preview(root, relative_path, text))


def edited_file(root: str | Path, relative_path: str, text: str) -> PreviewPage:
    """The page for a text being edited as the file `relative_path` (which need not exist)."""
    path = normalise_path(relative_path) or NEW_FILE_PATH
    if len(text) > TEXT_MAX_LENGTH:
        limit = f"{TEXT_MAX_LENGTH:,}".replace(",", "\u202f")
        too_long = ContentError(path, 1, f"Texte trop long : {limit} caractères au plus (fichier non analysé).")
        return PreviewPage(_list_files(Path(root)), path, text, Preview(path, None, [], [too_long], [], 0))
    return PreviewPage(_list_files(Path(root)), path, text, preview(root, path, text))


def preview(root: str | Path, path: str, text: str) -> Preview:
    """Parse and validate `text` as the file `path` of the content directory `root`."""
    content, errors, parsed = check_with_override(root, path, text)
    others = [error for error in errors if error.path != path]
    referentiel = folder_name(path) if parsed.kind == "referentiel" else None
    return Preview(
        path=path,
        kind=parsed.kind,
        nodes=[_node(node, content, referentiel) for node in parsed.nodes],
        file_errors=sorted({*parsed.errors, *(error for error in errors if error.path == path)}),
        other_errors=others[:ERRORS_SHOWN],
        other_error_count=len(others),
    )


def _list_files(root: Path) -> list[str]:
    return content_files(root) if root.is_dir() else []


def _node(node: Node, content: Content, referentiel: str | None) -> PreviewNode:
    return PreviewNode(
        title=node.title,
        line=node.line,
        fields=node.fields,
        sections=[(section.title, section.html) for section in node.sections.values()],
        formule=node.formule,
        after_code_html=node.after_code_html,
        points=_points(node, content, referentiel),
        children=[
            (keyword, [_node(child, content, referentiel) for child in children])
            for keyword, children in node.children.items()
        ],
    )


def _points(node: Node, content: Content, referentiel: str | None) -> float | None:
    identifiant = node.text_value("identifiant")
    if referentiel is None or identifiant is None:
        return None
    action = content.action(f"{referentiel}_{identifiant}" if identifiant else referentiel)
    return action.points if action else None
