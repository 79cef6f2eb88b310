"""Étoiles of the labellisation (shared/spec/labellisation.md §2–§6): thresholds of % réalisé and
per-étoile action criteria, evaluated on stored scores read as proportions.

Pure: imports only the standard library and app.scoring.*.

The étoile reached is the highest one whose threshold the référentiel's score reaches and whose
action criteria, and those of every lower étoile, are all met (criteria on a désactivée action
or on an action without score are skipped, as in the spec). Thresholds are whole percentages
turned into proportions in exact decimal (35 → 0.35), then compared as floats; a criterion is met
when `fait × 100 ≥ min réalisé` or `(programmé + fait) × 100 ≥ min programmé`, a missing minimum
making its side false (§5). The file criterion (a preuve attached to a demande) is the demande's.
"""
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Etoile:
    numero: int
    nom: str  # "première étoile"
    min_realise_percentage: int

    @property
    def seuil(self) -> float:
        """The threshold as a proportion, computed in exact decimal then stored as a float (§3)."""
        return float(Decimal(self.min_realise_percentage) * Decimal("0.01"))


@dataclass(frozen=True)
class CritereAction:
    etoile: int
    priorite: int
    action_id: str
    formulation: str
    min_realise: int | None
    min_programme: int | None


@dataclass(frozen=True)
class Regles:
    """The étoiles (ascending) and one référentiel's action criteria."""

    etoiles: tuple[Etoile, ...]
    criteres: tuple[CritereAction, ...]

    def etoile(self, numero: int) -> Etoile:
        return self.etoiles[numero - 1]


@dataclass(frozen=True)
class Bareme:
    """The étoiles (the same for every référentiel) and the criteria of each référentiel."""

    etoiles: tuple[Etoile, ...]
    criteres: Mapping[str, tuple[CritereAction, ...]]

    def regles(self, referentiel_id: str) -> Regles:
        return Regles(self.etoiles, self.criteres.get(referentiel_id, ()))


def parse_bareme(etoiles_csv: str, criteres_csv: str) -> Bareme:
    """From the text of etoiles.csv and criteres_action.csv (shared/labellisation). ValueError,
    in French, on a malformed file."""
    def number(text: str) -> int | None:
        return int(text) if text.strip() else None

    try:
        etoiles = tuple(sorted(
            (Etoile(int(row["etoile"]), row["long_nom"], int(row["min_realise_percentage"]))
             for row in csv.DictReader(io.StringIO(etoiles_csv))),
            key=lambda etoile: etoile.numero))
        criteres: dict[str, list[CritereAction]] = {}
        for row in csv.DictReader(io.StringIO(criteres_csv)):
            criteres.setdefault(row["referentiel"], []).append(CritereAction(
                int(row["etoile"]), int(row["priorite"]), row["action_id"], row["formulation"],
                number(row["min_realise_percentage"]), number(row["min_programme_percentage"])))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"fichier de labellisation invalide : {error}") from None
    if not etoiles or [etoile.numero for etoile in etoiles] != list(range(1, len(etoiles) + 1)):
        raise ValueError("fichier de labellisation invalide : les étoiles doivent aller de 1 à n")
    return Bareme(etoiles, {ref: tuple(sorted(rows, key=lambda c: (c.etoile, c.priorite)))
                            for ref, rows in criteres.items()})


@dataclass(frozen=True)
class Proportion:
    """A stored score read as proportions (§2)."""

    fait: float
    programme: float
    desactive: bool = False


def proportion(point_fait: float, point_programme: float, point_potentiel: float, fait_taches_avancement: float,
               programme_taches_avancement: float, total_taches_count: int, desactive: bool = False) -> Proportion:
    """Points over potentiel; over the tâches' avancement when the potentiel is 0 (§2)."""
    if point_potentiel:
        return Proportion(point_fait / point_potentiel, point_programme / point_potentiel, desactive)
    if total_taches_count:
        return Proportion(fait_taches_avancement / total_taches_count,
                          programme_taches_avancement / total_taches_count, desactive)
    return Proportion(0.0, 0.0, desactive)


def critere_rempli(critere: CritereAction, score: Proportion) -> bool:
    return ((critere.min_realise is not None and score.fait * 100 >= critere.min_realise)
            or (critere.min_programme is not None
                and (score.programme + score.fait) * 100 >= critere.min_programme))


@dataclass(frozen=True)
class CritereEtat:
    critere: CritereAction
    score: Proportion
    rempli: bool


@dataclass(frozen=True)
class Parcours:
    """Étoile reached (None: not even the first), the next one (None after the last), the
    référentiel's % réalisé as a proportion, and the criteria that apply up to the next étoile
    (or to the last one), lowest étoile first."""

    atteinte: int | None
    suivante: int | None
    realise: float
    seuil_suivante: float | None
    criteres: tuple[CritereEtat, ...]


def etoile_du_score(regles: Regles, realise: float) -> int | None:
    """The highest étoile whose threshold the proportion réalisé reaches, criteria aside (§4's
    `etoile_score_possible`); None below the first threshold."""
    reached = [etoile.numero for etoile in regles.etoiles if realise >= etoile.seuil]
    return reached[-1] if reached else None


def parcours(regles: Regles, realise: float, scores: Mapping[str, Proportion]) -> Parcours:
    """`realise`: the root's proportion fait; `scores`: proportions by action id (at least the
    criteria's actions; an absent one skips its criterion)."""
    etats = [CritereEtat(critere, scores[critere.action_id], critere_rempli(critere, scores[critere.action_id]))
             for critere in regles.criteres
             if critere.action_id in scores and not scores[critere.action_id].desactive]
    atteinte = None
    for etoile in regles.etoiles[:etoile_du_score(regles, realise) or 0]:
        if not all(e.rempli for e in etats if e.critere.etoile <= etoile.numero):
            break
        atteinte = etoile.numero
    last = regles.etoiles[-1].numero
    suivante = 1 if atteinte is None else (atteinte + 1 if atteinte < last else None)
    shown = suivante or last
    return Parcours(atteinte, suivante, realise, regles.etoile(suivante).seuil if suivante else None,
                    tuple(e for e in etats if e.critere.etoile <= shown))
