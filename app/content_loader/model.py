"""Pure dataclasses describing checked content (no database, no flask).

Allowed imports: the standard library only.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem of the content: `path` is relative to the content directory, `line` 1-based."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ActionDef:
    id: str
    referentiel: str
    identifiant: str
    nom: str
    parent_id: str | None
    depth: int
    points: float | None  # computed (spec §3.5); None when it could not be inferred
    md_points: float | None
    md_pourcentage: float | None
    categorie: str | None
    thematique_id: str | None  # Climat Pratic id (`climat_pratic_id`), checked against the thématiques
    thematique_line: int  # where it is written (its error's line)
    # Canonical section name (referentiel.SECTION_FIELDS values) -> sanitised HTML; only those written.
    sections: dict[str, str]
    children: list[str]  # sorted as strings, like the 2025 converter (scoring sums in this order)
    position: int  # natural display order among siblings (1.2 before 1.10)
    source_path: str
    source_line: int


@dataclass
class ReferentielDef:
    id: str
    nom: str
    action_level: int
    actions: dict[str, ActionDef]  # root first, then depth-first in display order
    source_path: str = ""

    @property
    def root(self) -> ActionDef:
        return self.actions[self.id]

    @property
    def points(self) -> float:
        return self.root.points or 0.0


@dataclass
class ChoixDef:
    id: str
    formulation: str
    ordonnancement: int | None


@dataclass
class QuestionDef:
    id: str
    type: str  # binaire | proportion | choix
    formulation: str
    description: str
    thematique_id: str
    action_ids: list[str]
    types_concernes: list[str]
    ordonnancement: int | None
    choix: list[ChoixDef]
    source_path: str
    source_line: int


@dataclass
class RegleDef:
    kind: str  # desactivation | reduction | score
    formule: str
    description: str
    source_path: str
    source_line: int  # line of the ```formule fence


@dataclass
class RegleSetDef:
    action_id: str
    titre: str
    description: str
    regles: list[RegleDef]
    source_path: str
    source_line: int


@dataclass
class IndicateurDef:
    id: str
    groupe: str  # folder name under indicateurs/ (cae, eci, crte)
    identifiant: str
    nom: str
    unite: str
    description: str
    valeur: str | None
    action_ids: list[str]
    source_path: str
    source_line: int


@dataclass
class PreuveDef:
    id: str
    nom: str
    description: str
    action_ids: list[str]
    source_path: str
    source_line: int


@dataclass
class Content:
    referentiels: dict[str, ReferentielDef] = field(default_factory=dict)
    questions: dict[str, QuestionDef] = field(default_factory=dict)
    regles: dict[str, RegleSetDef] = field(default_factory=dict)  # by action_id
    indicateurs: dict[str, IndicateurDef] = field(default_factory=dict)
    preuves: dict[str, PreuveDef] = field(default_factory=dict)
    thematiques: dict[str, str] = field(default_factory=dict)  # id -> nom
    content_hash: str = ""

    def action(self, action_id: str) -> ActionDef | None:
        referentiel = self.referentiels.get(action_id.split("_", 1)[0])
        return referentiel.actions.get(action_id) if referentiel else None

    def counts(self) -> dict[str, int]:
        return {
            "référentiels": len(self.referentiels),
            "actions": sum(len(r.actions) for r in self.referentiels.values()),
            "questions": len(self.questions),
            "règles": sum(len(s.regles) for s in self.regles.values()),
            "indicateurs": len(self.indicateurs),
            "preuves": len(self.preuves),
            "thématiques": len(self.thematiques),
        }
