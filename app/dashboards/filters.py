"""The filters of the priorisation and mesures tables, read from a query string and written back.

Pure: standard library only. Parsing never raises: a value that is not understood is left out
and explained in a French message, so that a hand-edited or outdated link still shows a page.
A multi-valued filter is written `?phase=bases,effets` (shareable) and read that way or repeated
(`?phase=bases&phase=effets`, what a form of checkboxes sends).
"""
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date

from app.dashboards.tree import PHASE_LABELS, DashboardTree

# Bins of a ratio (points / potentiel), lower bound included; the last one includes 100 %. The
# first is exactly 0 and the others follow the star thresholds (dashboards.md §3.1).
PERCENT_BINS = {
    "0": ("0 %", 0.0, 0.0),
    "1": ("1 à 34 %", 0.0, 0.35),
    "35": ("35 à 49 %", 0.35, 0.50),
    "50": ("50 à 64 %", 0.50, 0.65),
    "65": ("65 à 74 %", 0.65, 0.75),
    "75": ("75 à 100 %", 0.75, float("inf")),
}
# Bins of points restants (the matrix rows), lower bound included except for "0-1": ]0, 1[.
RESTANTS_BINS = {
    "10+": ("10 points et plus", 10.0, float("inf")),
    "5-10": ("5 à 10 points", 5.0, 10.0),
    "2-5": ("2 à 5 points", 2.0, 5.0),
    "1-2": ("1 à 2 points", 1.0, 2.0),
    "0-1": ("Moins de 1 point", 0.0, 1.0),
    "0": ("Aucun point", 0.0, 0.0),
}
NIVEAUX = {"sous_action": "Sous-actions", "action": "Actions"}
TRIS = {
    "restants": "Points restants (décroissant)",
    "realise": "% réalisé (croissant)",
    "programme": "% programmé (croissant)",
    "referentiel": "Ordre du référentiel",
}
STATUT_FILTERS = {
    "non_renseigne": "Non renseigné",
    "fait": "Fait",
    "programme": "Programmé",
    "pas_fait": "Pas fait",
    "detaille": "Détaillé",
    "non_concerne": "Non concerné",
}
_ECHO_LENGTH = 40  # what a message repeats of a typed value


def in_bin(value: float, bounds: tuple[str, float, float]) -> bool:
    _label, low, high = bounds
    if high == low:  # the "exactly 0" bins
        return value == low
    return (value > low if low == 0 else value >= low) and value < high


def bin_of(value: float, bins: Mapping[str, tuple[str, float, float]]) -> str:
    """The key of the bin holding `value` (the bins cover every value from 0 up)."""
    for key, bounds in bins.items():
        if in_bin(value, bounds):
            return key
    raise ValueError(f"{value} hors des intervalles")


@dataclass(frozen=True)
class PriorisationFilters:
    niveau: str = "sous_action"
    realise: frozenset[str] = frozenset()  # PERCENT_BINS keys
    programme: frozenset[str] = frozenset()  # PERCENT_BINS keys
    phase: frozenset[str] = frozenset()  # PHASE_LABELS keys
    restants: frozenset[str] = frozenset()  # RESTANTS_BINS keys
    axe: frozenset[str] = frozenset()  # identifiants of axes
    thematique: frozenset[str] = frozenset()  # Climat Pratic ids
    tri: str = "restants"

    def query_args(self) -> dict[str, str]:
        return query_args(self)


@dataclass(frozen=True)
class MesuresFilters:
    statut: frozenset[str] = frozenset()  # STATUT_FILTERS keys
    axe: frozenset[str] = frozenset()
    phase: frozenset[str] = frozenset()
    thematique: frozenset[str] = frozenset()
    non_renseigne: bool = False  # only the nodes with points still non renseignés
    depuis: date | None = None  # only the nodes changed on or after that day

    @property
    def active(self) -> bool:
        return self != MesuresFilters()

    def query_args(self) -> dict[str, str]:
        return query_args(self)


def query_args(filters) -> dict[str, str]:
    """The query string of the filters set to something else than their default, values sorted
    (the same filters always give the same link)."""
    args = {}
    for spec in fields(filters):
        value = getattr(filters, spec.name)
        if value == spec.default or (isinstance(value, frozenset) and not value):
            continue
        if isinstance(value, frozenset):
            args[spec.name] = ",".join(sorted(value))
        elif isinstance(value, bool):
            args[spec.name] = "1"
        else:
            args[spec.name] = value.isoformat() if isinstance(value, date) else str(value)
    return args


@dataclass
class _Reader:
    """Reads the filters of one query string and collects the French messages."""

    args: Mapping
    known: tuple[str, ...]
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        for key in self.args:
            if key not in self.known:
                self.errors.append(f"Filtre inconnu « {_echo(key)} » : il est ignoré.")

    def texts(self, key: str) -> list[str]:
        if key not in self.args:
            return []
        raw = self.args.getlist(key) if hasattr(self.args, "getlist") else [self.args[key]]
        return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]

    def choices(self, key: str, label: str, allowed: Mapping[str, str]) -> frozenset[str]:
        texts = self.texts(key)
        unknown = [text for text in texts if text not in allowed]
        if unknown:
            self.errors.append(
                f"{label} : {_values(unknown)} inconnue(s), ignorée(s). Valeurs possibles : {', '.join(allowed)}."
            )
        return frozenset(text for text in texts if text in allowed)

    def choice(self, key: str, label: str, allowed: Mapping[str, str], default: str) -> str:
        texts = self.texts(key)
        if not texts:
            return default
        if len(texts) > 1 or texts[0] not in allowed:
            self.errors.append(
                f"{label} : {_values(texts)} non reconnue(s), « {allowed[default]} » est utilisé. "
                f"Valeurs possibles : {', '.join(allowed)}."
            )
            return default
        return texts[0]


def _echo(text: str) -> str:
    return text if len(text) <= _ECHO_LENGTH else text[:_ECHO_LENGTH] + "…"


def _values(texts: list[str]) -> str:
    return ", ".join(f"« {_echo(text)} »" for text in texts)


def _axes(tree: DashboardTree) -> dict[str, str]:
    return {axe.identifiant: axe.nom for axe in tree.axes}


def _thematiques(tree: DashboardTree) -> dict[str, str]:
    names = {key: tree.thematique_names.get(key, key) for key in tree.thematiques}
    return dict(sorted(names.items(), key=lambda item: item[1]))


def _phases(tree: DashboardTree) -> dict[str, str]:
    return {key: PHASE_LABELS[key] for key in tree.phases()} or dict(PHASE_LABELS)


def parse_priorisation_filters(args: Mapping, tree: DashboardTree) -> tuple[PriorisationFilters, list[str]]:
    reader = _Reader(args, tuple(f.name for f in fields(PriorisationFilters)))
    filters = PriorisationFilters(
        niveau=reader.choice("niveau", "Niveau", NIVEAUX, "sous_action"),
        realise=reader.choices("realise", "% réalisé", {k: v[0] for k, v in PERCENT_BINS.items()}),
        programme=reader.choices("programme", "% programmé", {k: v[0] for k, v in PERCENT_BINS.items()}),
        phase=reader.choices("phase", "Phase", _phases(tree)),
        restants=reader.choices("restants", "Points restants", {k: v[0] for k, v in RESTANTS_BINS.items()}),
        axe=reader.choices("axe", "Axe", _axes(tree)),
        thematique=reader.choices("thematique", "Thématique", _thematiques(tree)),
        tri=reader.choice("tri", "Tri", TRIS, "restants"),
    )
    return filters, reader.errors


def parse_mesures_filters(args: Mapping, tree: DashboardTree) -> tuple[MesuresFilters, list[str]]:
    reader = _Reader(args, tuple(f.name for f in fields(MesuresFilters)))
    non_renseigne = reader.texts("non_renseigne")
    if non_renseigne and non_renseigne != ["1"]:
        reader.errors.append(f"Non renseigné : {_values(non_renseigne)} non reconnue(s) : écrivez 1 pour filtrer.")
    depuis = None
    for text in reader.texts("depuis")[:1]:
        try:
            depuis = date.fromisoformat(text)
        except ValueError:
            reader.errors.append(
                f"Date « {_echo(text)} » invalide pour « modifié depuis » : format attendu AAAA-MM-JJ "
                "(par exemple 2025-03-31)."
            )
    filters = MesuresFilters(
        statut=reader.choices("statut", "Statut", STATUT_FILTERS),
        axe=reader.choices("axe", "Axe", _axes(tree)),
        phase=reader.choices("phase", "Phase", _phases(tree)),
        thematique=reader.choices("thematique", "Thématique", _thematiques(tree)),
        non_renseigne=non_renseigne == ["1"],
        depuis=depuis,
    )
    return filters, reader.errors
