"""What the definitions loader reads: one Definition per indicateur, and its problems."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoadError:
    path: str
    line: int
    message: str
    warning: bool = False  # reported, but does not stop the load

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'avertissement : ' if self.warning else ''}{self.message}"


@dataclass
class Definition:
    id: str
    titre: str
    unite: str
    source_path: str
    source_line: int
    description: str = ""  # safe HTML
    titre_court: str = ""
    parents: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    thematiques: list[str] = field(default_factory=list)
    action_ids: list[str] = field(default_factory=list)
    formule: str | None = None
    participation_score: bool = False
    sans_valeur_utilisateur: bool = False
    borne_min: float | None = None
    borne_max: float | None = None
    precision: int = 2
    expr_cible: str | None = None
    expr_seuil: str | None = None
    libelle_cible_seuil: str | None = None
