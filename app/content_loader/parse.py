"""Parse one markdown content file into a tree of generic nodes (spec content-format §2).

Pure: takes a path (for messages) and the text, never reads files. Allowed imports: the
standard library, yaml, app.markdown and app.content_loader.model.

marko keeps no source positions, so a light line scanner finds the structure (ATX headings,
fenced blocks, HTML comments; headings inside fences or comments don't count) and marko only
renders the text between structural lines.

Reading rules (a tidier version of the original reader, identical on well-formed files):
- nodes are named by headings at the current *name level* (1 at the start of a file);
- a heading one level below a node is a section of it (key = snake-cased title);
- a *keyword* heading (`## Actions`, `## Choix`, `## Règles`) written as a section opens a
  list of children named one level deeper;
- a heading at or above the parent's name level closes nested lists until it fits; one
  level above the name level it is taken as a section of the current node (the original
  reader also wrote such headings' text into the last node);
- ```yaml blocks are merged into the current node, a ```formule block sets its formula;
- text right after a code block is kept as the node's `after_code_html` (the rules'
  description); text between a node title and its yaml is dropped, as in the original.
"""
import re
import unicodedata
from dataclasses import dataclass, field

import yaml

from app.content_loader.model import ContentError
from app.markdown import check_markdown, render_markdown

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(?:(`{3,})[ \t]*([^\s`]*)[^`]*|(~{3,})[ \t]*(\S*).*)$")
_COMMENT_OPEN = re.compile(r"^ {0,3}<!--")
_YAML_KEY = re.compile(r"^([^\s#:'\"-][^:]*?)[ \t]*:(?:[ \t]|$)(.*)$")

try:
    _YAML_LOADER = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _YAML_LOADER = yaml.SafeLoader
_ALIAS_REFUSED = "Les ancres et alias YAML (&nom, *nom) ne sont pas autorisés"


def snake(text: str) -> str:
    """`Périmètre de l'évaluation` -> `perimetre_de_levaluation` (all accents dropped)."""
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"\s+", "_", plain.replace("'", "").replace("’", ""))


@dataclass(eq=False)
class Section:
    title: str
    line: int
    lines: list[str] = field(default_factory=list)
    html: str = ""


@dataclass(eq=False)
class Node:
    """One titled entry of a file: an action, a question, a choix, a rule set, a rule..."""

    title: str | None
    line: int
    fields: dict = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)
    raw_values: dict[str, str] = field(default_factory=dict)  # yaml scalar text as written
    sections: dict[str, Section] = field(default_factory=dict)  # by snake-cased title
    children: dict[str, list["Node"]] = field(default_factory=dict)  # by keyword
    formule: str | None = None
    formule_line: int = 0
    after_code_lines: list[str] = field(default_factory=list)
    after_code_html: str = ""
    yaml_failed: bool = False  # a yaml block of this node did not parse (already reported)

    def line_of(self, key: str) -> int:
        return self.field_lines.get(key, self.line)

    def text_value(self, key: str) -> str | None:
        """A scalar as text; numbers keep their written form (`identifiant: 3.10` -> "3.10")."""
        value = self.fields.get(key)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.raw_values.get(key, str(value))
        return value if isinstance(value, str) else str(value)


@dataclass
class ParsedFile:
    path: str
    kind: str
    nodes: list[Node]
    errors: list[ContentError]


@dataclass
class _Frame:
    name_level: int
    nodes: list[Node]


def parse_document(path: str, text: str, kind: str, keywords: frozenset[str] = frozenset()) -> ParsedFile:
    reader = _Reader(path, keywords)
    for line_number, line in enumerate(text.splitlines(), start=1):
        reader.feed(line_number, line)
    reader.finish()
    return ParsedFile(path=path, kind=kind, nodes=reader.top.nodes, errors=reader.errors)


class _Reader:
    def __init__(self, path: str, keywords: frozenset[str]):
        self.path = path
        self.keywords = keywords
        self.top = _Frame(1, [])
        self.frames = [self.top]
        self.errors: list[ContentError] = []
        self.target: list[str] | None = None  # where plain text lines go
        self.fence: tuple[str, str, int, list[str]] | None = None  # marker, lang, line, body
        self.in_comment = False
        self.sections: list[Section] = []
        self.after_code_nodes: set[Node] = set()

    def feed(self, number: int, line: str) -> None:
        if self.fence:
            self._feed_fence(number, line)
        elif self.in_comment:
            self._text(line)
            self.in_comment = "-->" not in line
        elif _COMMENT_OPEN.match(line):
            self._text(line)
            self.in_comment = "-->" not in line.split("<!--", 1)[1]
        elif match := _FENCE_OPEN.match(line):
            marker, lang = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            self.fence = (marker, lang.lower(), number, [])
            if self.fence[1] not in ("yaml", "formule"):
                self._text(line)
        elif match := _HEADING.match(line):
            self._heading(number, len(match.group(1)), (match.group(2) or "").strip(), line)
        else:
            self._text(line)

    def finish(self) -> None:
        if self.fence:  # unclosed fence: it runs to the end of the file, as in CommonMark
            self._close_fence()
        for section in self.sections:
            text = "\n".join(section.lines)
            if problem := check_markdown(text):
                self.errors.append(ContentError(self.path, section.line, f"Section « {section.title} » : {problem}"))
            section.html = render_markdown(text)
        for node in self.after_code_nodes:
            node.after_code_html = render_markdown("\n".join(node.after_code_lines))

    def _feed_fence(self, number: int, line: str) -> None:
        marker, lang, _, body = self.fence
        stripped = line.strip()
        closes = stripped.startswith(marker) and set(stripped) == {marker[0]} and len(line) - len(line.lstrip()) < 4
        if lang not in ("yaml", "formule"):
            self._text(line)
        if closes:
            self._close_fence()
        else:
            body.append(line)

    def _close_fence(self) -> None:
        _, lang, line, body = self.fence
        self.fence = None
        if lang not in ("yaml", "formule"):
            return
        node = self._current_node(line)
        if lang == "yaml":
            self._merge_yaml(node, line, body)
        else:
            node.formule = "\n".join(body) + "\n"
            node.formule_line = line
        self.target = node.after_code_lines
        self.after_code_nodes.add(node)

    def _merge_yaml(self, node: Node, fence_line: int, body: list[str]) -> None:
        text = "\n".join(body)
        try:
            if alias_line := _first_anchor_or_alias(text):
                self.errors.append(ContentError(self.path, fence_line + alias_line, _ALIAS_REFUSED))
                node.yaml_failed = True
                return
            data = yaml.load(text, Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = fence_line + 1 + mark.line if mark else fence_line
            reason = getattr(exc, "problem", None) or str(exc)
            self.errors.append(ContentError(self.path, line, f"Erreur dans le formatage du code yaml : {reason}"))
            node.yaml_failed = True
            return
        if data is None:
            return
        if not isinstance(data, dict):
            self.errors.append(ContentError(self.path, fence_line, "Le bloc yaml doit contenir des lignes « clé: valeur »"))
            return
        for offset, text in enumerate(body, start=1):
            if match := _YAML_KEY.match(text):
                key = match.group(1)
                node.field_lines.setdefault(key, fence_line + offset)
                node.raw_values.setdefault(key, _scalar_text(match.group(2)))
        node.fields.update({str(key): value for key, value in data.items()})

    def _heading(self, number: int, level: int, title: str, line: str) -> None:
        key = snake(title)
        is_keyword = key in self.keywords
        # A keyword heading belongs to the node one level above it; other headings close nested
        # lists only when written at (or above) the parent's name level.
        lowest = 1 if is_keyword else 2
        while len(self.frames) > 1 and level <= self.frames[-1].name_level - lowest:
            self.frames.pop()
        frame = self.frames[-1]
        if is_keyword and level == frame.name_level + 1:
            parent = self._current_node(number)
            self.frames.append(_Frame(level + 1, parent.children.setdefault(key, [])))
            self.target = None
        elif level == frame.name_level:
            frame.nodes.append(Node(title=title or None, line=number))
            self.target = None
        elif abs(level - frame.name_level) == 1:  # one level too high is taken as a section too
            node = self._current_node(number)
            section = node.sections.get(key)
            if section is None:
                section = node.sections[key] = Section(title=title, line=number)
                self.sections.append(section)
            self.target = section.lines
        else:  # deeper heading: part of the open section's text
            self._text(line)

    def _current_node(self, line: int) -> Node:
        frame = self.frames[-1]
        if not frame.nodes:
            frame.nodes.append(Node(title=None, line=line))
        return frame.nodes[-1]

    def _text(self, line: str) -> None:
        if self.target is not None:
            self.target.append(line)


def _first_anchor_or_alias(text: str) -> int | None:
    """Line (1-based) of the first `&anchor` or `*alias`: refused, as aliases let a few bytes
    expand into a huge document. The events are only read when such a character is present."""
    if "&" not in text and "*" not in text:
        return None
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            return event.start_mark.line + 1
    return None


def _scalar_text(raw: str) -> str:
    """`1.10  # comment` -> `1.10`; quotes removed."""
    text = re.sub(r"\s+#.*$", "", raw).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
