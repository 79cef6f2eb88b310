"""Statuts of a collectivité on the référentiels' tâches and sous-actions: the one reader of the
statut columns, the statut edit, and the statut controls the pages show (StatutView, StatutState).

A statut is set on a tâche or sous-action that no personnalisation rule switches off; a
sous-action's own statut counts for its whole subtree, its tâches' statuts then left out.
"""
import json
import math
from dataclasses import dataclass, replace
from typing import ClassVar

from sqlalchemy import select

from app.extensions import db
from app.models import Action, ActionStatut, Collectivite, Referentiel
from app.persistence import upsert, utcnow
from app.policy import can
from app.scoring import Consequence, PreparedTree
from app.scoring.avancement import avancement_fractions
from app.scoring.desactivation import desactivation_source, desactivees
from app.scoring.tree import depth_of, parent_id
from app.services.collectivites import identite_of
from app.services.labellisation_history import AuditLocked, audit_running, check_audit_lock
from app.services.personnalisation import consequences_for
from app.services.reponses import percent_text
from app.services.rule_reasons import RuleReasons, identifiant_of
from app.services.scores import StoredScores, scores_for
from app.services.scoring_content import scoring_content_from_db
from app.services.suivi import InvalidEdit, commit_edit, live_action, referentiel_of, require_edit

STATUT_VALUES = ("fait", "programme", "pas_fait", "non_renseigne", "non_concerne", "detaille")
STATUT_LABELS = {
    "non_renseigne": "Non renseigné",
    "fait": "Fait",
    "programme": "Programmé",
    "pas_fait": "Pas fait",
    "non_concerne": "Non concerné",
    "detaille": "Détaillé",
}
STATUT_OPTIONS = tuple(STATUT_LABELS.items())  # the control's options, in order
# Statuts that count for a whole sous-action, its tâches' statuts left out of the score: an
# avancement (scoring.md §3.5, rule A) or non concerné (its potentiel, and its tâches', is 0).
WHOLE_SOUS_ACTION_STATUTS = frozenset({"fait", "programme", "pas_fait", "detaille", "non_concerne"})
# Statut -> DSFR badge severity, for readers.
STATUT_SEVERITIES = {"fait": "success", "programme": "info", "pas_fait": "error", "detaille": "new"}


@dataclass(frozen=True)
class StatutValue:
    """A statut as the forms and the history see it; détaillé carries fractions summing to 1."""

    avancement: str
    concerne: bool = True
    fait: float | None = None
    programme: float | None = None
    pas_fait: float | None = None

    @property
    def value(self) -> str:
        return "non_concerne" if not self.concerne else self.avancement

    @property
    def fractions(self) -> tuple[float, float, float] | None:
        """As the engine reads it (None: counts for nothing)."""
        return avancement_fractions(self.avancement, self.concerne, self.fait, self.programme, self.pas_fait)

    def as_json(self) -> str:
        return json.dumps(
            {"statut": self.value, "detail": [self.fait, self.programme, self.pas_fait] if self.fait is not None else None}
        )

    @classmethod
    def from_json(cls, text: str) -> "StatutValue":
        """The inverse of as_json (a history entry's value)."""
        data = json.loads(text)
        if data["statut"] == "non_concerne":
            return cls("non_renseigne", concerne=False)
        return cls(data["statut"], True, *(data["detail"] or ()))


_STATUT_COLUMNS = (ActionStatut.avancement, ActionStatut.concerne, ActionStatut.fait, ActionStatut.programme,
                   ActionStatut.pas_fait)


def read_statuts(collectivite_id: int, *conditions) -> dict[str, StatutValue]:
    """action id -> statut, for the collectivité's statuts matching `conditions` (the one reader
    of the statut columns, with read_statuts_of_pairs: pages, edits and re-scores)."""
    rows = db.session.execute(
        select(ActionStatut.action_id, *_STATUT_COLUMNS).where(ActionStatut.collectivite_id == collectivite_id, *conditions)
    )
    return {row.action_id: StatutValue(*row[1:]) for row in rows}


def read_statuts_of_pairs(pairs) -> dict[tuple[int, str], dict[str, StatutValue]]:
    """(collectivité, référentiel) -> its statuts as read_statuts gives them, for every pair of
    `pairs` (a batch of re-scores), in one statement."""
    statuts = {pair: {} for pair in pairs}
    rows = db.session.execute(
        select(ActionStatut.collectivite_id, ActionStatut.referentiel_id, ActionStatut.action_id, *_STATUT_COLUMNS)
        .where(ActionStatut.collectivite_id.in_({collectivite_id for collectivite_id, _ in pairs}))
    )
    for row in rows:
        pair_statuts = statuts.get((row.collectivite_id, row.referentiel_id))
        if pair_statuts is not None:
            pair_statuts[row.action_id] = StatutValue(*row[3:])
    return statuts


def statut_of(collectivite_id: int, action_id: str) -> StatutValue | None:
    return read_statuts(collectivite_id, ActionStatut.action_id == action_id).get(action_id)


def parse_statut(statut_value: str, detail: tuple[float, float, float] | None = None) -> StatutValue:
    """`statut_value` is one of STATUT_VALUES; `detail` the fait/programmé/pas fait percentages of
    a détaillé statut (numbers or numeric strings, each in [0, 100], summing to 100)."""
    if statut_value not in STATUT_VALUES:
        raise InvalidEdit(f"statut inconnu : {statut_value!r}")
    if statut_value == "non_concerne":
        return StatutValue("non_renseigne", concerne=False)
    if statut_value != "detaille":
        return StatutValue(statut_value)
    percentages = _percentages(detail)
    return StatutValue("detaille", True, *(p / 100 for p in percentages))


def _percentages(detail) -> list[float]:
    if detail is None or len(detail) != 3:
        raise InvalidEdit("un statut détaillé demande trois pourcentages : fait, programmé, pas fait")
    try:
        percentages = [float(str(p).replace(",", ".")) for p in detail]
    except ValueError:
        raise InvalidEdit("les pourcentages doivent être des nombres") from None
    if any(not math.isfinite(p) or p < 0 or p > 100 for p in percentages):
        raise InvalidEdit("chaque pourcentage doit être compris entre 0 et 100")
    if not math.isclose(sum(percentages), 100, abs_tol=1e-6):
        raise InvalidEdit(f"les pourcentages doivent totaliser 100 % (total : {sum(percentages):g} %)")
    return percentages


# Writes --------------------------------------------------------------------------------------------


def set_statut(user, collectivite_id: int, action_id: str, statut_value: str, detail=None) -> StatutValue:
    """Set the statut of a tâche or sous-action; returns the saved value."""
    require_edit(user, collectivite_id)
    new = parse_statut(statut_value, detail)
    action = _statut_action(action_id, desactivees(consequences_for(collectivite_id)))
    return _write_statut(user, collectivite_id, action, new, statut_of(collectivite_id, action_id))


def _statut_action(action_id: str, switched_off: frozenset[str]) -> Action:
    """The action, if a statut may be set on it: a tâche or sous-action that is not désactivée."""
    action = live_action(action_id)
    if action.depth <= referentiel_of(action).action_level:
        raise InvalidEdit("le statut se renseigne sur les sous-actions et les tâches")
    if desactivation_source(action_id, switched_off) is not None:
        raise InvalidEdit("cette action est désactivée par la personnalisation")
    return action


def _write_statut(user, collectivite_id: int, action: Action, new: StatutValue, old: StatutValue | None) -> StatutValue:
    """Unchanged values write nothing; nothing is written while an audit of the référentiel runs."""
    if old == new:
        return new
    check_audit_lock(collectivite_id, action.referentiel_id)
    upsert(
        ActionStatut,
        {"collectivite_id": collectivite_id, "action_id": action.id},
        {
            "referentiel_id": action.referentiel_id,
            "avancement": new.avancement,
            "concerne": new.concerne,
            "fait": new.fait,
            "programme": new.programme,
            "pas_fait": new.pas_fait,
            "modified_by_id": user.id,
            "modified_at": utcnow(),
        },
    )
    commit_edit(user, collectivite_id, "statut", action.id, old and old.as_json(), new.as_json(),
                rescore=[action.referentiel_id])
    return new


# The controls --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatutState:
    """What the statut control of one action shows (see fragments/statuts/_action_statut.html):
    plain values only, so that rendering it after an edit's commit reads nothing again."""

    collectivite_id: int
    referentiel_id: str
    action_id: str
    identifiant: str
    settable: bool  # a tâche or sous-action
    editable: bool  # settable, the user may edit, and not désactivée
    desactive: bool
    has_taches: bool = False  # a sous-action with tâches
    counted_instead: tuple[str, str] | None = None  # (identifiant, statut label) of the sous-action whose statut counts
    reasons: tuple[str, ...] = ()  # what the personnalisation does to the action, in words
    value: str = "non_renseigne"
    detail: tuple[str, str, str] = ("", "", "")  # fait / programmé / pas fait percentages as typed
    error: str | None = None
    options: ClassVar[tuple[tuple[str, str], ...]] = STATUT_OPTIONS

    @property
    def label(self) -> str:
        return STATUT_LABELS[self.value]

    @property
    def severity(self) -> str:
        return STATUT_SEVERITIES.get(self.value, "")

    @property
    def overrides_taches(self) -> bool:
        """The statut counts for the whole sous-action: its tâches' statuts are left out."""
        return self.has_taches and self.value in WHOLE_SOUS_ACTION_STATUTS


@dataclass(frozen=True)
class StatutView:
    """A collectivité's statuts and personnalisation on one référentiel, as the controls show them."""

    collectivite_id: int
    action_level: int
    can_edit: bool
    statuts: dict[str, StatutValue]
    desactivees: frozenset[str]  # actions a rule switches off (their subtrees are off too)
    reductions: dict[str, float]  # action id -> factor of a reduction rule (!= 1)
    score_rules: frozenset[str]  # actions whose score a rule recomputes
    scores: StoredScores | dict
    tree: PreparedTree | None  # the référentiel's tree as scored (children of each node)
    reasons: RuleReasons
    locked: bool = False  # an audit of the référentiel runs: no statut is editable meanwhile

    def children_of(self, action_id: str) -> list[str]:
        if self.tree is None or action_id not in self.tree.index:
            return []
        return [self.tree.ids[child] for child in self.tree.children[self.tree.index[action_id]]]

    def settable_ancestors(self, action_id: str) -> list[str]:
        """The ancestors that take a statut too (sous-actions above a tâche), nearest first."""
        ancestors, node = [], parent_id(action_id)
        while node is not None and depth_of(node) > self.action_level:
            ancestors.append(node)
            node = parent_id(node)
        return ancestors

    def rule_applies(self, action_id: str, kind: str) -> bool:
        """Whether the action's rule of `kind` changes something for the collectivité."""
        if kind == "desactivation":
            return action_id in self.desactivees
        return action_id in (self.reductions if kind == "reduction" else self.score_rules)

    def personnalised_ids(self, referentiel_id: str) -> set[str]:
        """The actions of the référentiel whose own rules change something for the collectivité."""
        return {a for a in (*self.desactivees, *self.reductions, *self.score_rules)
                if a.partition("_")[0] == referentiel_id}

    def states_of(self, action_ids) -> dict[str, StatutState]:
        return {action_id: self.statut_state_of(action_id) for action_id in action_ids}

    def statut_state_of(self, action_id: str) -> StatutState:
        settable = depth_of(action_id) > self.action_level
        source = desactivation_source(action_id, self.desactivees)
        reasons = []
        if source == action_id:
            reasons.append(self.reasons.desactivation(source))
        elif source is not None:
            reasons.append(f"Désactivée avec {identifiant_of(source)}, par la personnalisation.")
        elif action_id in self.reductions and action_id in self.scores:
            record = self.scores[action_id]
            reasons.append(self.reasons.reduction(action_id, record["point_referentiel"], record["point_potentiel_perso"],
                                                  record["point_potentiel"]))
        if action_id in self.score_rules:
            reasons.append(self.reasons.score(action_id))
        counted_instead = None
        if settable and source is None:
            counted_instead = next(
                ((identifiant_of(a), STATUT_LABELS[self.statuts[a].value]) for a in self.settable_ancestors(action_id)
                 if a in self.statuts and self.statuts[a].value in WHOLE_SOUS_ACTION_STATUTS),
                None,
            )
        return StatutState(
            collectivite_id=self.collectivite_id,
            referentiel_id=action_id.partition("_")[0],
            action_id=action_id,
            identifiant=identifiant_of(action_id),
            settable=settable,
            editable=settable and self.can_edit and not self.locked and source is None,
            desactive=source is not None,
            has_taches=settable and bool(self.children_of(action_id)),
            counted_instead=counted_instead,
            reasons=tuple(r for r in reasons if r),
            **_statut_fields(self.statuts.get(action_id)),
        )


def statut_view(collectivite: Collectivite, referentiel_id: str, action_level: int, can_edit: bool) -> StatutView:
    """The view of a whole référentiel (tree and action pages): every statut, the stored scores."""
    content = scoring_content_from_db(db.session)
    view = _view(collectivite, action_level, can_edit, consequences_for(collectivite.id, content),
                 read_statuts(collectivite.id, ActionStatut.referentiel_id == referentiel_id),
                 scores_for(collectivite.id, referentiel_id), content and content.trees.get(referentiel_id))
    return replace(view, locked=can_edit and audit_running(collectivite.id, referentiel_id))


def _view(collectivite: Collectivite, action_level: int, can_edit: bool, consequences: dict[str, Consequence],
          statuts: dict[str, StatutValue], scores, tree: PreparedTree | None) -> StatutView:
    return StatutView(
        collectivite_id=collectivite.id,
        action_level=action_level,
        can_edit=can_edit,
        statuts=statuts,
        desactivees=desactivees(consequences),
        reductions=_reductions(consequences),
        score_rules=frozenset(a for a, c in consequences.items() if c.score_formule is not None),
        scores=scores,
        tree=tree,
        reasons=RuleReasons(collectivite, identite_of(collectivite)),
    )


def _reductions(consequences: dict[str, Consequence]) -> dict[str, float]:
    factors = {}
    for action_id, consequence in consequences.items():
        if consequence.potentiel_perso is not None and float(consequence.potentiel_perso) != 1:
            factors[action_id] = float(consequence.potentiel_perso)
    return factors


def _percent_texts(statut: StatutValue | None) -> tuple[str, str, str]:
    """The three percentages of a statut as form values (a simple statut is 100 % of its kind)."""
    fractions = statut and statut.fractions
    return ("", "", "") if not fractions else tuple(percent_text(f) for f in fractions)


def _statut_fields(statut: StatutValue | None) -> dict:
    return {"value": statut.value if statut else "non_renseigne", "detail": _percent_texts(statut)}


def save_statut(user, collectivite_id: int, referentiel_id: str, action_id: str, statut_value: str,
                detail: tuple) -> dict | None:
    """Save a statut from the control; returns the control's context: {"statut_state": StatutState,
    "taches": [StatutState]}, the second holding the controls of a sous-action's tâches after its
    statut changed (whether theirs count depends on it).

    Choosing "détaillé" without percentages saves nothing: the control comes back with the three
    fields to fill in, prefilled from the current statut. A refused value comes back with the
    French message and the values as typed. The right is checked once; the control's state, the
    personnalisation and the statuts are read once, BEFORE the edit (its commit expires every
    loaded row), and serve its checks too.
    """
    require_edit(user, collectivite_id)
    found = _control_view(collectivite_id, referentiel_id, action_id, can_edit=True)
    if found is None:
        return None
    view, _rows = found  # _rows held: the edit finds them in the session, unread again
    state = view.statut_state_of(action_id)
    old = view.statuts.get(action_id)
    if statut_value == "detaille" and not any(str(p).strip() for p in detail):
        return {"statut_state": replace(state, value="detaille", detail=_percent_texts(old)), "taches": []}
    try:
        new = parse_statut(statut_value, detail if statut_value == "detaille" else None)
        saved = _write_statut(user, collectivite_id, _statut_action(action_id, view.desactivees), new, old)
    except InvalidEdit as error:
        if not state.editable or isinstance(error, AuditLocked):  # e.g. désactivée meanwhile: the saved statut
            return {"statut_state": replace(state, **_statut_fields(old), error=str(error)), "taches": []}
        return {"statut_state": replace(state, value=statut_value if statut_value in STATUT_LABELS else "non_renseigne",
                                        detail=tuple(str(p) for p in detail), error=str(error)), "taches": []}
    after = replace(view, statuts={**view.statuts, action_id: saved})
    return {"statut_state": replace(state, **_statut_fields(saved)),
            "taches": [after.statut_state_of(child) for child in view.children_of(action_id)]}


def statut_control(user, collectivite_id: int, referentiel_id: str, action_id: str) -> dict | None:
    """The statut control as stored, for `user`: {"statut_state": StatutState} (what a page
    re-fetches when a push says the action's personnalisation changed)."""
    found = _control_view(collectivite_id, referentiel_id, action_id, can_edit=can(user, "edit", collectivite_id))
    return found and {"statut_state": found[0].statut_state_of(action_id)}


def _control_view(collectivite_id: int, referentiel_id: str, action_id: str,
                  can_edit: bool) -> tuple[StatutView, tuple] | None:
    """The view the control of one action needs: its statut, those of its sous-action (for a
    tâche) and of its tâches (for a sous-action), in one read; and the rows read (the session
    keeps only referenced ones); None for an unknown or archived action."""
    found = db.session.execute(  # the three in one statement (they stay in the session for the edit)
        select(Action, Referentiel, Collectivite)
        .join(Referentiel, Referentiel.id == Action.referentiel_id)
        .join(Collectivite, Collectivite.id == collectivite_id)
        .where(Action.id == action_id)
    ).one_or_none()
    if found is None:
        return None
    action, referentiel, collectivite = found
    if action.archived or action.referentiel_id != referentiel_id or referentiel.archived:
        return None
    content = scoring_content_from_db(db.session)
    view = _view(collectivite, referentiel.action_level, can_edit, consequences_for(collectivite_id, content), {}, {},
                 content and content.trees.get(referentiel_id))
    related = [action_id, *view.settable_ancestors(action_id), *view.children_of(action_id)]
    # The controls show a score only for a reduced potentiel: read the scores then only.
    if view.reductions.keys() & set(related):
        view = replace(view, scores=scores_for(collectivite_id, referentiel_id))
    view = replace(view, statuts=read_statuts(collectivite_id, ActionStatut.action_id.in_(related)))
    return view, (action, referentiel, collectivite)
