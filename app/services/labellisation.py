"""Étoiles of the labellisation per collectivité and référentiel: the étoile reached and the next
one with their criteria (etoiles_of, from the stored scores only), the what-if sandbox (statuts
changed in memory, scored by the engine, nothing written) and the shortest path to the next étoile.

The rules (thresholds, per-étoile action criteria) are read from LABELLISATION_DIR
(shared/labellisation) and evaluated by app.scoring.labellisation: the one rule, also behind the
étoiles of the sharing pages (partage.record_summary).
"""
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import ActionStatut, Collectivite, Referentiel, ScoreState
from app.scoring import SCORE_FIELDS, Statut
from app.scoring.engine import Draft, draft_referentiel
from app.scoring.labellisation import (
    Bareme,
    CritereAction,
    CritereEtat,
    Parcours,
    Regles,
    etoile_du_score as etoile_of_proportion,
    parcours,
    parse_bareme,
    proportion,
)
from app.scoring.whatif import PROPORTION_FIELDS, chemin_le_plus_court, parcours_of, simulate_draft
from app.services.personnalisation import consequences_for
from app.services.pilotage import collectivite_and_referentiel, dashboard_tree
from app.services.referentiels import referentiel_links
from app.services.scores import scores_for
from app.services.scoring_content import LATEST_VERSION, scoring_content_of
from app.services.statuts import STATUT_LABELS, parse_statut, read_statuts

# What the sandbox offers (détaillé only to keep a stored détaillé statut as it is).
SIMULATION_CHOICES = ("non_renseigne", "fait", "programme", "pas_fait", "non_concerne")
FIELD_PREFIX = "statut-"


@dataclass(frozen=True)
class Critere:
    etoile: int
    action_id: str | None  # None: the score criterion
    formulation: str
    rempli: bool
    detail: str  # "réalisé 40 % / requis 100 %"
    exigence: str = ""  # "Fait", "Programmé ou fait", "20 % fait minimum"


@dataclass(frozen=True)
class EtoilesState:
    referentiel_id: str
    atteinte: int | None
    suivante: int | None
    realise_pct: float | None
    seuil_suivante: float | None  # % réalisé required by the next étoile
    criteres: list[Critere]  # those of the next étoile (all of them once the last is reached), score first
    peut_demander: bool  # an étoile is reached: its score and criteria are met


# Rules -------------------------------------------------------------------------------------------

logger = logging.getLogger(__name__)
_baremes: dict[str, Bareme] = {}
_missing_logged: set[str] = set()  # folders already said missing (once, not at every re-score)


class RulesMissing(LookupError):
    """LABELLISATION_DIR holds no rules: the étoiles cannot be said (their pages answer 503), the
    scores go on without them."""


def bareme() -> Bareme:
    """The rules of LABELLISATION_DIR, read once per directory."""
    folder = current_app.config["LABELLISATION_DIR"]
    if folder not in _baremes:
        path = Path(folder)
        try:
            texts = [(path / name).read_text(encoding="utf-8") for name in ("etoiles.csv", "criteres_action.csv")]
        except OSError as error:
            if folder not in _missing_logged:
                _missing_logged.add(folder)
                logger.warning("labellisation rules not found in LABELLISATION_DIR=%s: %s", folder, error)
            raise RulesMissing("Les règles de labellisation (seuils des étoiles et critères) ne sont pas installées "
                               "sur ce serveur : les étoiles ne peuvent pas être calculées.") from None
        _baremes[folder] = parse_bareme(*texts)
    return _baremes[folder]


def regles_of(referentiel_id: str) -> Regles:
    return bareme().regles(referentiel_id)


def _parcours_of_records(referentiel_id: str, root_id: str, record_of) -> Parcours | None:
    """The parcours from stored records (`record_of(action_id)`: a mapping of the score fields,
    or None when there is none); None without the root's."""
    regles = regles_of(referentiel_id)
    ids = [root_id, *(critere.action_id for critere in regles.criteres)]
    scores = {}
    for action_id in ids:
        record = record_of(action_id)
        if record is not None:
            scores[action_id] = proportion(*(record[name] for name in PROPORTION_FIELDS))
    if root_id not in scores:
        return None
    return parcours(regles, scores[root_id].fait, scores)


def etoile_of_records(referentiel_id: str, root_id: str, records: Mapping[str, Sequence]) -> int | None:
    """The étoile reached by freshly computed records (action id -> values of SCORE_FIELDS)."""
    def record_of(action_id: str) -> dict | None:
        values = records.get(action_id)
        return None if values is None else dict(zip(SCORE_FIELDS, values))

    try:
        found = _parcours_of_records(referentiel_id, root_id, record_of)
    except RulesMissing:  # a re-score never fails for want of the étoiles: its summary goes without
        return None
    return found and found.atteinte


def etoile_du_score(referentiel_id: str, realise_pct: float | None) -> int | None:
    """The étoile a % réalisé alone allows, criteria aside (None below the first threshold or
    without a score)."""
    return None if realise_pct is None else etoile_of_proportion(regles_of(referentiel_id), realise_pct / 100)


# Étoiles of the stored scores --------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", ",").removesuffix(",0") + " %"


def exigence(critere: CritereAction) -> str:
    """How the spec words a criterion (§6)."""
    if critere.min_realise == 100:
        return "Programmé ou fait" if critere.min_programme == 100 else "Fait"
    if critere.min_programme is None:
        return f"{critere.min_realise} % fait minimum"
    if critere.min_realise is None:
        return f"{critere.min_programme} % programmé minimum"
    return f"{critere.min_realise} % fait minimum ou {critere.min_programme} % programmé minimum"


def _critere(etat: CritereEtat) -> Critere:
    critere, score = etat.critere, etat.score
    if critere.min_realise is not None:
        detail = f"réalisé {_pct(100 * score.fait)} / requis {_pct(critere.min_realise)}"
    else:
        detail = ""
    if critere.min_programme is not None:
        detail += (" ; " if detail else "") + (f"programmé ou réalisé {_pct(100 * (score.fait + score.programme))}"
                                               f" / requis {_pct(critere.min_programme)}")
    return Critere(critere.etoile, critere.action_id, critere.formulation, etat.rempli, detail, exigence(critere))


def state_of(referentiel_id: str, found: Parcours | None) -> EtoilesState:
    if found is None:
        return EtoilesState(referentiel_id, None, None, None, None, [], False)
    etoile = regles_of(referentiel_id).etoile(found.suivante or found.atteinte)
    seuil = etoile.min_realise_percentage
    score = Critere(etoile.numero, None, f"Score réalisé d'au moins {seuil} %", found.realise >= etoile.seuil,
                    f"réalisé {_pct(100 * found.realise)} / requis {_pct(seuil)}", f"{seuil} % réalisé minimum")
    return EtoilesState(
        referentiel_id, found.atteinte, found.suivante, 100 * found.realise,
        None if found.suivante is None else float(seuil),
        [score, *map(_critere, found.criteres)], found.atteinte is not None)


def etoiles_of(collectivite_id: int, referentiel_id: str) -> EtoilesState:
    """The étoiles of the stored scores (a page without scores yet enqueues them: atteinte None)."""
    stored = scores_for(collectivite_id, referentiel_id)
    found = _parcours_of_records(referentiel_id, referentiel_id, lambda a: stored[a] if a in stored else None)
    return state_of(referentiel_id, found)


# Pages -------------------------------------------------------------------------------------------


def _names(referentiel: Referentiel) -> dict[str, str]:
    """action id -> "1.2.3 Nom" for the links."""
    return {node.id: f"{node.identifiant} {node.nom}".strip() for node in dashboard_tree(referentiel).nodes}


def overview_page(collectivite_id: int) -> dict | None:
    """Every live référentiel's étoiles (the workspace tab)."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    return {"collectivite": collectivite,
            "referentiels": [(referentiel_id, nom, etoiles_of(collectivite_id, referentiel_id))
                             for referentiel_id, nom in referentiel_links()]}


def etoiles_page(collectivite_id: int, referentiel_id: str) -> dict | None:
    found = collectivite_and_referentiel(collectivite_id, referentiel_id)
    if found is None:
        return None
    collectivite, referentiel = found
    return {"collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
            "etoiles": etoiles_of(collectivite_id, referentiel_id)}


# What-if -----------------------------------------------------------------------------------------


class Sandbox:
    """The stored state of a collectivité's référentiel as the sandbox starts from: the engine's
    draft of its statuts and personnalisation, the stored statut of every node the sandbox may
    change, the étoiles; and the drafts of the last simulations, each change of a session scored
    again from the one before it (along the changed nodes only)."""

    SIMULATIONS_MAX = 32

    def __init__(self, draft: Draft, stored: dict[str, str], regles: Regles):
        self.draft, self.stored, self.regles = draft, stored, regles
        self.actuel = parcours_of(regles, draft.table())
        self._simulations: OrderedDict[frozenset, Draft] = OrderedDict()
        self._lock = threading.Lock()

    def simulate(self, changes: Mapping[str, str]) -> Draft:
        """The draft with `changes` (action id -> statut value), from the cached simulation
        holding the most of them (none of the others)."""
        key = frozenset(changes.items())
        with self._lock:
            found = self._simulations.get(key)
            if found is None:
                done = max((known for known in self._simulations if known <= key), key=len, default=frozenset())
                start = self._simulations.get(done, self.draft)
        if found is not None:
            return found
        found = simulate_draft(start, {action_id: engine_statut(action_id, value) for action_id, value in key - done})
        with self._lock:
            self._simulations[key] = found
            while len(self._simulations) > self.SIMULATIONS_MAX:
                self._simulations.popitem(last=False)
        return found


# (collectivité, référentiel, edit revision, content version) -> its sandbox.
_SANDBOXES_MAX = 16
_sandboxes: OrderedDict[tuple, Sandbox] = OrderedDict()
_sandboxes_lock = threading.Lock()


def sandbox_of(collectivite_id: int, referentiel_id: str) -> Sandbox:
    """The sandbox of the stored statuts and personnalisation (nothing stored). One read finds
    whether the cached one is still that of the stored state."""
    version = LATEST_VERSION.subquery()
    found = db.session.execute(
        select(version, ScoreState.edit_revision).select_from(version).outerjoin(
            ScoreState, (ScoreState.collectivite_id == collectivite_id) & (ScoreState.referentiel_id == referentiel_id))
    ).one_or_none()
    if found is None:
        raise LookupError("aucun contenu chargé : lancer `flask content load`")
    version_id, content = scoring_content_of(db.session, tuple(found)[:3])
    if referentiel_id not in content.trees:
        raise LookupError(f"référentiel non chargé : {referentiel_id}")
    key = (collectivite_id, referentiel_id, found.edit_revision, version_id)
    with _sandboxes_lock:
        sandbox = _sandboxes.get(key)
    if sandbox is None:
        tree = content.trees[referentiel_id]
        statuts = read_statuts(collectivite_id, ActionStatut.referentiel_id == referentiel_id)
        draft = draft_referentiel(tree, [Statut(action_id, value.fractions, value.concerne)
                                         for action_id, value in statuts.items()],
                                  consequences_for(collectivite_id, content))
        desactive = draft.columns.desactive
        stored = {action_id: statuts[action_id].value if action_id in statuts else "non_renseigne"
                  for i, action_id in enumerate(tree.ids) if tree.depth[i] > tree.action_level and not desactive[i]}
        sandbox = Sandbox(draft, stored, regles_of(referentiel_id))
        with _sandboxes_lock:
            _sandboxes[key] = sandbox
            while len(_sandboxes) > _SANDBOXES_MAX:
                _sandboxes.popitem(last=False)
    return sandbox


@dataclass(frozen=True)
class SimulationRow:
    action_id: str
    identifiant: str
    nom: str
    depth: int  # below the action: 1 for a sous-action, 2 for a tâche
    stored: str  # the stored statut value
    value: str  # the simulated one

    @property
    def changed(self) -> bool:
        return self.value != self.stored

    @property
    def choices(self) -> list[tuple[str, str]]:
        values = SIMULATION_CHOICES + (("detaille",) if self.stored == "detaille" else ())
        return [(value, STATUT_LABELS[value]) for value in values]


@dataclass(frozen=True)
class SimulationGroup:
    action_id: str
    titre: str
    rows: list[SimulationRow]

    @property
    def changes(self) -> int:
        return sum(row.changed for row in self.rows)


def parse_changes(form: Mapping[str, str], stored: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The simulated statuts of the form that differ from the stored ones (action id -> value) and
    the French messages of the fields not understood (those fields are left out). `stored`: the
    statut value of each node the sandbox may change."""
    changes, errors = {}, []
    for name, value in form.items():
        if not name.startswith(FIELD_PREFIX):
            continue
        action_id = name[len(FIELD_PREFIX):]
        if action_id not in stored:
            errors.append(f"Action inconnue ou sans statut à simuler : « {action_id[:64]} ».")
        elif value != stored[action_id] and value not in SIMULATION_CHOICES:
            errors.append(f"Statut inconnu pour {action_id} : « {value[:32]} ». Choisissez dans la liste.")
        elif value != stored[action_id]:
            changes[action_id] = value
    return changes, errors


def engine_statut(action_id: str, value: str) -> Statut:
    statut = parse_statut(value)
    return Statut(action_id, statut.fractions, statut.concerne)


def simulation(sandbox: Sandbox, changes: Mapping[str, str]) -> tuple[Parcours, dict]:
    """(parcours with `changes`, root points with `changes`)."""
    table = sandbox.simulate(changes).table()
    root = table.records_of([table.tree.root_id])[table.tree.root_id]
    return parcours_of(sandbox.regles, table), {
        "fait": root.point_fait, "programme": root.point_programme, "potentiel": root.point_potentiel}


def simulation_page(collectivite_id: int, referentiel_id: str, form: Mapping[str, str] | None = None,
                    with_chemin: bool = False) -> dict | None:
    """The sandbox: every settable node with its stored and simulated statut, grouped by action,
    and the simulated étoiles. `form`: the simulated statuts posted (None: the stored ones);
    `with_chemin`: start from the shortest path's tâches done."""
    found = collectivite_and_referentiel(collectivite_id, referentiel_id)
    if found is None:
        return None
    collectivite, referentiel = found
    sandbox = sandbox_of(collectivite_id, referentiel_id)
    changes, errors = parse_changes(form or {}, sandbox.stored)
    if with_chemin:
        changes.update({etape.action_id: "fait" for etape in chemin_le_plus_court(sandbox.draft, sandbox.regles).etapes})
    tree = dashboard_tree(referentiel)
    groups: dict[str, SimulationGroup] = {}
    for node in tree.nodes:
        if node.depth == referentiel.action_level:
            groups[node.id] = SimulationGroup(node.id, f"{node.identifiant} {node.nom}", [])
        elif node.id in sandbox.stored:
            action = node.id
            while action not in groups:
                action = tree.by_id[action].parent_id
            stored = sandbox.stored[node.id]
            groups[action].rows.append(SimulationRow(node.id, node.identifiant, node.nom,
                                                     node.depth - referentiel.action_level, stored,
                                                     changes.get(node.id, stored)))
    return {"collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
            "groups": [group for group in groups.values() if group.rows], "field_prefix": FIELD_PREFIX,
            **resultat_context(referentiel_id, sandbox, changes, errors)}


def resultat_context(referentiel_id: str, sandbox: Sandbox, changes: Mapping[str, str], errors: list[str]) -> dict:
    """What the sandbox's result fragment shows."""
    simule, points = simulation(sandbox, changes)
    return {"actuel": state_of(referentiel_id, sandbox.actuel), "simule": state_of(referentiel_id, simule),
            "points_simules": points, "change_count": len(changes), "errors": errors}


def simulation_result(collectivite_id: int, referentiel_id: str, form: Mapping[str, str]) -> dict | None:
    """The result fragment's context for the posted simulated statuts (htmx, on each change)."""
    found = collectivite_and_referentiel(collectivite_id, referentiel_id)
    if found is None:
        return None
    sandbox = sandbox_of(collectivite_id, referentiel_id)
    changes, errors = parse_changes(form, sandbox.stored)
    return {"collectivite": found[0], "referentiel": found[1],
            **resultat_context(referentiel_id, sandbox, changes, errors)}


# Shortest path -----------------------------------------------------------------------------------


def chemin_page(collectivite_id: int, referentiel_id: str) -> dict | None:
    found = collectivite_and_referentiel(collectivite_id, referentiel_id)
    if found is None:
        return None
    collectivite, referentiel = found
    sandbox = sandbox_of(collectivite_id, referentiel_id)
    chemin = chemin_le_plus_court(sandbox.draft, sandbox.regles)
    return {"collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
            "chemin": chemin, "actuel": state_of(referentiel_id, sandbox.actuel),
            "resultat": state_of(referentiel_id, chemin.resultat),
            "bloquants": [exigence(c) + " : " + c.formulation for c in chemin.bloquants],
            "names": _names(referentiel)}
