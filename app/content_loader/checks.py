"""Field checks shared by every kind of content: each problem becomes a ContentError.

Pure: standard library and app.content_loader.* only.
"""
from dataclasses import dataclass

from app.content_loader.model import ContentError
from app.content_loader.parse import Node


@dataclass
class Checker:
    path: str
    errors: list[ContentError]

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def title(self, node: Node) -> bool:
        if node.title:
            return True
        self.error(node.line, "Titre manquant : chaque élément commence par un titre markdown (« # … »).")
        return False

    def known_keys(self, node: Node, fields: set[str], sections: set[str] = frozenset()) -> None:
        """Strict formats: any other yaml key or section is an error."""
        for key in node.fields:
            if key not in fields:
                self.error(node.line_of(key), f"Clé inconnue « {key} » (clés possibles : {', '.join(sorted(fields)) or 'aucune'}).")
        for key, section in node.sections.items():
            if key not in sections:
                self.error(section.line, f"Section inconnue « {section.title} » (sections possibles : {', '.join(sorted(sections)) or 'aucune'}).")

    def text(self, node: Node, key: str, required: bool = False) -> str | None:
        raw = node.fields.get(key)
        if raw is None:
            if required:
                self.error(node.line, f"Clé obligatoire manquante : `{key}`.")
            return None
        if isinstance(raw, (list, dict)):
            self.error(node.line_of(key), f"`{key}` doit être un texte (trouvé : {raw!r}).")
            return None
        value = node.text_value(key).strip()
        if required and not value:
            self.error(node.line_of(key), f"`{key}` ne doit pas être vide.")
            return None
        return value

    def number(self, node: Node, key: str) -> float | None:
        value = node.fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(node.line_of(key), f"`{key}` doit être un nombre (trouvé : {value!r}).")
            return None
        return float(value)

    def integer(self, node: Node, key: str) -> int | None:
        value = node.fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(node.line_of(key), f"`{key}` doit être un entier (trouvé : {value!r}).")
            return None
        return value

    def boolean(self, node: Node, key: str) -> bool | None:
        value = node.fields.get(key)
        if value is not None and not isinstance(value, bool):
            self.error(node.line_of(key), f"`{key}` doit valoir true ou false (trouvé : {value!r}).")
            return None
        return value

    def choice(self, node: Node, key: str, options: tuple[str, ...], required: bool = False) -> str | None:
        value = node.fields.get(key)
        if value is None and not required:
            return None
        if value not in options:
            shown = "absent" if value is None else repr(value)
            self.error(node.line_of(key), f"`{key}` doit valoir {_or(options)} (trouvé : {shown}).")
            return None
        return value

    def text_list(self, node: Node, key: str, options: tuple[str, ...] | None = None) -> list[str]:
        value = node.fields.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.error(node.line_of(key), f"`{key}` doit être une liste de textes (trouvé : {value!r}).")
            return []
        wrong = [item for item in value if options is not None and item not in options]
        if wrong:
            self.error(node.line_of(key), f"`{key}` : valeurs possibles {_or(options)} (trouvé : {', '.join(wrong)}).")
        return [item for item in value if item not in wrong]


def _or(options: tuple[str, ...]) -> str:
    quoted = [f"« {option} »" for option in options]
    return ", ".join(quoted[:-1]) + f" ou {quoted[-1]}" if len(quoted) > 1 else quoted[0]
