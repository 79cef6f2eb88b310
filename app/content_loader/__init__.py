"""Markdown content: parse -> validate -> store.

- `parse.py`     one file's text -> ParsedFile (generic nodes, sections rendered to safe HTML)
- `validate.py`  all ParsedFiles -> (Content, [ContentError]) — référentiels via
                 `referentiel.py` and `points.py`; never raises, collects every error
- `store.py`     Content -> database rows, one transaction (the only module importing models)

Public API (no database): `check_dir`, `check_with_override`, `normalise_path`; with a session:
`load_dir`.
Where files go (which kind each folder holds) is described in `layout.py`.

`check_with_override(root, relative_path, text)` returns, besides the content and errors of
the whole directory with that file's text replaced, the `ParsedFile` of that text:

    ParsedFile.path, .kind ("referentiel", "questions", "regles", "indicateurs", "preuves",
        "thematiques", or None for a path that is not content), .errors (YAML errors and sections too
        long or too deeply nested to render as markdown),
    ParsedFile.nodes: list[Node], each Node having
        title (str | None), line (1-based),
        fields (dict: the merged yaml), field_lines (key -> line),
        sections: dict[snake-cased title -> Section(title, line, html)],
        children: dict[keyword ("actions", "choix", "regles") -> list[Node]],
        formule (str | None) and formule_line, after_code_html (text after a code block).

Parsed files are cached by (path, modification time, size), so re-checking a directory after
editing one file only parses that file again.

Allowed imports: the standard library, yaml, app.markdown, app.scoring and app.content_loader.*;
sqlalchemy and models only in store.py (imported lazily by `load_dir`).
"""
import hashlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from app.content_loader.layout import KEYWORDS, kind_of
from app.content_loader.model import (
    ActionDef,
    ChoixDef,
    Content,
    ContentError,
    IndicateurDef,
    PreuveDef,
    QuestionDef,
    ReferentielDef,
    RegleDef,
    RegleSetDef,
)
from app.content_loader.parse import Node, ParsedFile, Section, parse_document
from app.content_loader.validate import validate

__all__ = [
    "ActionDef", "ChoixDef", "Content", "ContentError", "IndicateurDef", "Node", "ParsedFile", "PreuveDef",
    "QuestionDef", "ReferentielDef", "RegleDef", "RegleSetDef", "Section",
    "check_dir", "check_with_override", "content_files", "load_dir", "normalise_path", "parse_text",
]

# Bumped when parsing or validation changes what is stored, so an unchanged text reloads.
LOADER_VERSION = "2"

_cache: dict[str, tuple[tuple[int, int], str, ParsedFile]] = {}  # root + path -> (stamp, text, parsed)


def content_files(root: Path) -> list[str]:
    """Relative paths (with /) of the content files under `root`, sorted."""
    found = (path.relative_to(root).as_posix() for path in root.rglob("*.md"))
    return sorted(path for path in found if kind_of(path))


def parse_text(relative_path: str, text: str) -> ParsedFile:
    kind = kind_of(relative_path)
    return parse_document(relative_path, text, kind, KEYWORDS.get(kind, frozenset()))


def check_dir(root: str | Path, progress: Callable[[int], None] | None = None) -> tuple[Content, list[ContentError]]:
    """Check the whole directory; `progress(1)` is called after each file is read."""
    content, errors, _ = _check(Path(root), {}, progress)
    return content, errors


def normalise_path(relative_path: str) -> str:
    """`./referentiels\\cae//1.md ` -> `referentiels/cae/1.md`; "" for an empty path."""
    path = PurePosixPath(relative_path.strip().replace("\\", "/").strip("/")).as_posix()
    return "" if path == "." else path


def check_with_override(root: str | Path, relative_path: str, text: str) -> tuple[Content, list[ContentError], ParsedFile]:
    """Check `root` with the file `relative_path` (normalised first) holding `text`."""
    relative_path = normalise_path(relative_path)
    content, errors, parsed = _check(Path(root), {relative_path: text})
    override = parsed[relative_path]
    if override.kind is None:
        errors.insert(0, ContentError(relative_path, 1, (
            "Emplacement inconnu : un fichier de contenu se place dans referentiels/<ref>/, questions/, "
            "personnalisations/, indicateurs/<groupe>/ ou preuves/ et se termine par .md."
        )))
    return content, errors, override


def load_dir(root: str | Path, session, source: str | None = None, progress: Callable[[int], None] | None = None):
    """Check `root`, then store it (nothing written when there are errors). Returns a LoadReport."""
    from app.content_loader.store import LoadReport, store

    content, errors = check_dir(root)
    if errors:
        return LoadReport.failed(errors)
    return store(session, content, source or str(root), progress=progress)


def _check(
    root: Path, overrides: dict[str, str], progress: Callable[[int], None] | None = None
) -> tuple[Content, list[ContentError], dict[str, ParsedFile]]:
    if not root.is_dir():
        return Content(), [ContentError(str(root), 1, "Dossier de contenu introuvable.")], {
            path: parse_text(path, text) for path, text in overrides.items()
        }
    paths = sorted(set(content_files(root)) | set(overrides))
    digest = hashlib.sha256(LOADER_VERSION.encode())
    parsed: dict[str, ParsedFile] = {}
    errors: list[ContentError] = []
    for path in paths:
        if path in overrides:
            text = overrides[path]
            parsed[path] = parse_text(path, text)
        else:
            try:
                text, parsed[path] = _parse_cached(root, path)
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(ContentError(path, 1, f"Fichier illisible : {exc}"))
                continue
        digest.update(f"\0{path}\0{text}".encode())
        if progress:
            progress(1)
    content, validation_errors = validate([file for file in parsed.values() if file.kind])
    content.content_hash = digest.hexdigest()
    return content, sorted(errors + validation_errors), parsed


def _parse_cached(root: Path, relative_path: str) -> tuple[str, ParsedFile]:
    path = root / relative_path
    stat = path.stat()
    key = f"{root.resolve()}\0{relative_path}"
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1], cached[2]
    text = path.read_text(encoding="utf-8")
    parsed = parse_text(relative_path, text)
    _cache[key] = (stamp, text, parsed)
    return text, parsed
