"""Page context builders of a collectivité's workspace: the référentiel tree and action pages with
statuts, scores and personnalisation badges, the personnalisation page (the history page is
app.services.history).

Each public function returns the variables of one template (a dict) or None when the référentiel,
action or collectivité is unknown. Writes go through app.services.suivi and app.services.preuves,
which validate, commit, record the history and enqueue the re-score.
"""
from dataclasses import dataclass, replace
from typing import ClassVar

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Action,
    ActionStatut,
    Collectivite,
    Precision,
    Question,
    Referentiel,
    Reponse,
    Thematique,
)
from app.models.collectivites import KINDS
from app.markdown import render_markdown
from app.policy import can
from app.scoring import Consequence, PreparedTree
from app.scoring.tree import depth_of, parent_id
from app.services import preuves, referentiels, suivi
from app.services.collectivites import identite_of
from app.services.evaluation import consequences_for, scores_for
from app.services.reponses import percent_text, proportion_from_percent
from app.services.rule_reasons import RuleReasons, identifiant_of
from app.services.scoring_content import scoring_content_from_db
from app.services.suivi import InvalidEdit, StatutValue

STATUT_LABELS = {
    "non_renseigne": "Non renseigné",
    "fait": "Fait",
    "programme": "Programmé",
    "pas_fait": "Pas fait",
    "non_concerne": "Non concerné",
    "detaille": "Détaillé",
}
# Statuts that count for a whole sous-action, its tâches' statuts left out of the score: an
# avancement (scoring.md §3.5, rule A) or non concerné (its potentiel, and its tâches', is 0).
WHOLE_SOUS_ACTION_STATUTS = frozenset({"fait", "programme", "pas_fait", "detaille", "non_concerne"})
# Statut -> DSFR badge severity, for readers.
STATUT_SEVERITIES = {"fait": "success", "programme": "info", "pas_fait": "error", "detaille": "new"}


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
    labels: ClassVar[dict[str, str]] = STATUT_LABELS  # the control's options, in order

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
class Workspace:
    """The collectivité context threaded through the référentiel templates."""

    collectivite_id: int
    action_level: int
    can_edit: bool
    statuts: dict[str, StatutValue]
    desactivees: frozenset[str]  # actions a rule switches off (their subtrees are off too)
    reductions: dict[str, float]  # action id -> factor of a reduction rule (!= 1)
    score_rules: frozenset[str]  # actions whose score a rule recomputes
    scores: object  # app.services.evaluation.StoredScores
    tree: PreparedTree | None  # the référentiel's tree as scored (children of each node)
    reasons: RuleReasons

    def desactivation_source(self, action_id: str) -> str | None:
        """The action itself or the nearest ancestor a rule switches off (None: not désactivée)."""
        node = action_id
        while node is not None:
            if node in self.desactivees:
                return node
            node = parent_id(node)
        return None

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

    def statut_state(self, action: Action) -> StatutState:
        return self.statut_state_of(action.id)

    def statut_state_of(self, action_id: str) -> StatutState:
        settable = depth_of(action_id) > self.action_level
        source = self.desactivation_source(action_id)
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
            editable=settable and self.can_edit and source is None,
            desactive=source is not None,
            has_taches=settable and bool(self.children_of(action_id)),
            counted_instead=counted_instead,
            reasons=tuple(r for r in reasons if r),
            **_statut_fields(self.statuts.get(action_id)),
        )


def _percent_texts(statut: StatutValue | None) -> tuple[str, str, str]:
    """The three percentages of a statut as form values (a simple statut is 100 % of its kind)."""
    if statut is None or not statut.concerne or statut.avancement == "non_renseigne":
        return ("", "", "")
    fractions = (statut.fait, statut.programme, statut.pas_fait)
    if statut.avancement != "detaille":
        fractions = tuple(1.0 if kind == statut.avancement else 0.0 for kind in ("fait", "programme", "pas_fait"))
    return tuple(percent_text(f) for f in fractions)


def workspace_for(user, collectivite: Collectivite, referentiel_id: str, action_level: int) -> Workspace:
    statuts = _statuts_where(collectivite.id, ActionStatut.referentiel_id == referentiel_id)
    content = scoring_content_from_db(db.session)
    return _workspace(user, collectivite, action_level, consequences_for(collectivite.id, content), statuts,
                      scores_for(collectivite.id, referentiel_id), content and content.trees.get(referentiel_id))


def _workspace(user, collectivite: Collectivite, action_level: int, consequences: dict[str, Consequence],
               statuts: dict[str, StatutValue], scores, tree: PreparedTree | None) -> Workspace:
    return Workspace(
        collectivite_id=collectivite.id,
        action_level=action_level,
        can_edit=can(user, "edit", collectivite.id),
        statuts=statuts,
        desactivees=frozenset(a for a, c in consequences.items() if c.desactive),
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


def _context(user, collectivite_id: int, referentiel: Referentiel | None) -> dict | None:
    """The variables every workspace template gets. tree_blueprint and url_args make the shared
    référentiel templates link to this workspace's routes instead of the public ones."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None or referentiel is None:
        return None
    workspace = workspace_for(user, collectivite, referentiel.id, referentiel.action_level)
    return {
        "collectivite": collectivite,
        "workspace": workspace,
        "scores": workspace.scores,
        **_workspace_links(collectivite_id),
        "referentiel_links": referentiel_links(),
    }


def _workspace_links(collectivite_id: int) -> dict:
    return {"tree_blueprint": "suivi", "url_args": {"collectivite_id": collectivite_id}}


def referentiel_links() -> list[tuple[str, str]]:
    """(id, nom) of every live référentiel, for the workspace navigation."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(Referentiel.id, Referentiel.nom).where(~Referentiel.archived).order_by(Referentiel.id)
        )
    ]


# Référentiel pages ---------------------------------------------------------------------------------


def tree_page(user, collectivite_id: int, referentiel_id: str) -> dict | None:
    """The tree page of a référentiel for a collectivité: axes, scores, statuts, and the actions
    its personnalisation changes (why the potentiel differs from the référentiel's points)."""
    level = referentiels.referentiel_tree(referentiel_id)
    context = _context(user, collectivite_id, level and level.referentiel)
    if context is None:
        return None
    workspace = context["workspace"]
    personnalised = [
        (action, workspace.statut_state(action).reasons)
        for action in referentiels.live_actions(workspace.personnalised_ids(referentiel_id))
    ]
    return {**context, "level": level, "personnalised": personnalised}


def children_fragment(user, collectivite_id: int, referentiel_id: str, action_id: str) -> dict | None:
    level = referentiels.tree_level(referentiel_id, action_id)
    context = _context(user, collectivite_id, level and level.referentiel)
    return context and {**context, "level": level}


def action_page(user, collectivite_id: int, referentiel_id: str, action_id: str) -> dict | None:
    """The action page for a collectivité: content, score, statut, précision and preuves."""
    detail = referentiels.action_detail(referentiel_id, action_id)
    context = _context(user, collectivite_id, detail and detail.referentiel)
    if context is None:
        return None
    return {
        **context,
        "detail": detail,
        "precision": precision_state(collectivite_id, action_id, context["workspace"].can_edit),
        "preuves": preuves.preuves_state(collectivite_id, action_id, context["workspace"].can_edit),
    }


def search_results(collectivite_id: int, referentiel_id: str, query: str) -> dict | None:
    """The référentiel search, its results linking to this workspace's action pages."""
    results = referentiels.search_actions(referentiel_id, query)
    return results and {"results": results, **_workspace_links(collectivite_id)}


# Statut --------------------------------------------------------------------------------------------


def save_statut(user, collectivite_id: int, referentiel_id: str, action_id: str, statut_value: str,
                detail: tuple) -> dict | None:
    """Save a statut from the control; returns the control's context: {"statut_state": StatutState,
    "taches": [StatutState]}, the second holding the controls of a sous-action's tâches after its
    statut changed (whether theirs count depends on it).

    Choosing "détaillé" without percentages saves nothing: the control comes back with the three
    fields to fill in, prefilled from the current statut. A refused value comes back with the
    French message and the values as typed. The control's state is read BEFORE the edit (the
    personnalisation once, shared with the edit's check): the commit expires every loaded row.
    """
    found = _statut_workspace(user, collectivite_id, referentiel_id, action_id, with_statut=False)
    if found is None:
        return None
    workspace, consequences, _rows = found  # _rows held: the edit finds them in the session, unread again
    state = workspace.statut_state_of(action_id)
    if statut_value == "detaille" and not any(str(p).strip() for p in detail):
        return {"statut_state": replace(state, value="detaille",
                                        detail=_percent_texts(suivi.statut_of(collectivite_id, action_id))),
                "taches": []}
    try:
        saved = suivi.set_statut(user, collectivite_id, action_id, statut_value,
                                 detail if statut_value == "detaille" else None, consequences=consequences)
    except InvalidEdit as error:
        if not state.editable:  # e.g. désactivée meanwhile: show the saved statut and the refusal
            saved = suivi.statut_of(collectivite_id, action_id)
            return {"statut_state": replace(state, **_statut_fields(saved), error=str(error)), "taches": []}
        return {"statut_state": replace(state, value=statut_value if statut_value in STATUT_LABELS else "non_renseigne",
                                        detail=tuple(str(p) for p in detail), error=str(error)), "taches": []}
    after = replace(workspace, statuts={**workspace.statuts, action_id: saved})
    return {"statut_state": replace(state, **_statut_fields(saved)),
            "taches": [after.statut_state_of(child) for child in workspace.children_of(action_id)]}


def statut_control(user, collectivite_id: int, referentiel_id: str, action_id: str) -> dict | None:
    """The statut control as stored, for `user`: {"statut_state": StatutState} (what a page
    re-fetches when a push says the action's personnalisation changed)."""
    found = _statut_workspace(user, collectivite_id, referentiel_id, action_id, with_statut=True)
    return found and {"statut_state": found[0].statut_state_of(action_id)}


def _statut_workspace(user, collectivite_id: int, referentiel_id: str, action_id: str,
                      with_statut: bool) -> tuple[Workspace, dict[str, Consequence], tuple] | None:
    """The workspace the control of one action needs: the statuts of its sous-action (for a
    tâche) and of its tâches (for a sous-action), its own when `with_statut`; the personnalisation
    consequences it was read with and the rows read (the session keeps only referenced ones);
    None for an unknown or archived action."""
    action = db.session.get(Action, action_id)
    referentiel = db.session.get(Referentiel, referentiel_id)
    collectivite = db.session.get(Collectivite, collectivite_id)
    if (action is None or action.archived or action.referentiel_id != referentiel_id or referentiel is None
            or referentiel.archived or collectivite is None):
        return None
    content = scoring_content_from_db(db.session)
    consequences = consequences_for(collectivite_id, content)
    workspace = _workspace(user, collectivite, referentiel.action_level, consequences, {}, {},
                           content and content.trees.get(referentiel_id))
    related = workspace.settable_ancestors(action_id) + workspace.children_of(action_id)
    # The controls show a score only for a reduced potentiel: read the scores then only.
    if workspace.reductions.keys() & {action_id, *related}:
        workspace = replace(workspace, scores=scores_for(collectivite_id, referentiel_id))
    if with_statut:
        related.append(action_id)
    if related:
        workspace = replace(workspace, statuts=_statuts_where(collectivite_id, ActionStatut.action_id.in_(related)))
    return workspace, consequences, (action, referentiel, collectivite)


def _statuts_where(collectivite_id: int, condition) -> dict[str, StatutValue]:
    """action id -> statut, for the collectivité's statuts matching `condition`."""
    rows = db.session.execute(
        select(ActionStatut.action_id, ActionStatut.avancement, ActionStatut.concerne, ActionStatut.fait,
               ActionStatut.programme, ActionStatut.pas_fait)
        .where(ActionStatut.collectivite_id == collectivite_id, condition)
    )
    return {row.action_id: StatutValue(*row[1:]) for row in rows}


def _statut_fields(statut: StatutValue | None) -> dict:
    return {"value": statut.value if statut else "non_renseigne", "detail": _percent_texts(statut)}


# Précision -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrecisionState:
    collectivite_id: int
    action_id: str
    texte: str
    html: str
    can_edit: bool
    error: str | None = None


def precision_state(collectivite_id: int, action_id: str, can_edit: bool, texte: str | None = None,
                    error: str | None = None) -> PrecisionState:
    if texte is None:
        texte = db.session.scalar(
            select(Precision.texte)
            .where(Precision.collectivite_id == collectivite_id, Precision.action_id == action_id)
        ) or ""
    return PrecisionState(collectivite_id, action_id, texte, render_precision(texte), can_edit, error)


def render_precision(texte: str | None) -> str:
    """A précision as HTML, below its section's h2 (fragments/suivi/_precision.html), tables included."""
    return render_markdown(texte or "", top_heading=3, gfm=True)


def save_precision(user, collectivite_id: int, action_id: str, texte: str) -> PrecisionState:
    """Save the précision; returns its fragment state (with the message and the text as typed
    when refused)."""
    try:
        suivi.set_precision(user, collectivite_id, action_id, texte)
    except InvalidEdit as error:
        return precision_state(collectivite_id, action_id, True, texte, str(error))
    return precision_state(collectivite_id, action_id, True)


# Personnalisation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionState:
    collectivite_id: int
    question: Question
    value: str | None  # as stored: OUI / NON, a choix id, a proportion in [0, 1]
    can_edit: bool
    error: str | None = None
    typed: str | None = None  # the refused input, shown back

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value, label) of the radio buttons of a binaire or choix question."""
        if self.question.type == "binaire":
            return [("OUI", "Oui"), ("NON", "Non")]
        return [(choix.id, choix.formulation) for choix in self.question.choix]

    @property
    def percent(self) -> str:
        """A proportion as a percentage for the input field (as typed when refused)."""
        return self.typed if self.typed is not None else percent_text(self.value)


@dataclass(frozen=True)
class ThematiqueGroup:
    id: str
    nom: str
    questions: list[QuestionState]

    @property
    def answered(self) -> int:
        return sum(1 for q in self.questions if q.value is not None)


def identity_card(collectivite: Collectivite) -> dict:
    identite = identite_of(collectivite)
    return {
        "type": KINDS.get(collectivite.kind, collectivite.kind),
        "nature": collectivite.nature,
        "population": "inconnue" if collectivite.population is None
        else f"{collectivite.population:,} habitants".replace(",", "\u202f"),
        "localisation": "Outre-mer (DROM)" if collectivite.drom else "Métropole",
        "tags": sorted(identite.type) + sorted(identite.population) + sorted(identite.localisation),
    }


def personnalisation_page(user, collectivite_id: int) -> dict | None:
    """Identity card and the questions that concern the collectivité, grouped by thématique."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    can_edit = can(user, "edit", collectivite_id)
    reponses = _reponses(collectivite_id)
    questions = db.session.scalars(
        select(Question)
        .where(~Question.archived)
        .order_by(Question.thematique_id, Question.ordonnancement, Question.id)
    )
    noms = dict(db.session.execute(select(Thematique.id, Thematique.nom)).all())
    groups: dict[str, list[QuestionState]] = {}
    for question in questions:
        if not _concerns(question, collectivite):
            continue
        state = QuestionState(collectivite_id, question, reponses.get(question.id), can_edit)
        groups.setdefault(question.thematique_id, []).append(state)
    return {
        "collectivite": collectivite,
        "referentiel_links": referentiel_links(),
        "identity": identity_card(collectivite),
        "groups": [ThematiqueGroup(t, noms.get(t, t.replace("_", " ").capitalize()), qs) for t, qs in groups.items()],
    }


def _reponses(collectivite_id: int) -> dict[str, str]:
    return dict(db.session.execute(
        select(Reponse.question_id, Reponse.value).where(Reponse.collectivite_id == collectivite_id)
    ).all())


def save_reponse(user, collectivite_id: int, question_id: str, value: str | None) -> dict | None:
    """Save an answer (proportions arrive as percentages); returns the question fragment's context
    and its thématique group (for the completion counter). A refused answer comes back with the
    French message, a refused percentage as typed. None for a question the page doesn't show."""
    question = db.session.get(Question, question_id)
    collectivite = db.session.get(Collectivite, collectivite_id)
    if question is None or question.archived or collectivite is None or not _concerns(question, collectivite):
        return None
    typed, error = None, None
    try:
        stored = proportion_from_percent(value) if question.type == "proportion" else value
        suivi.set_reponse(user, collectivite_id, question_id, stored)
    except InvalidEdit as refused:
        typed, error = value, str(refused)
    page = personnalisation_page(user, collectivite_id)
    group = next(g for g in page["groups"] if g.id == question.thematique_id)
    state = next(q for q in group.questions if q.question.id == question_id)
    if error:
        state = replace(state, error=error, typed=typed if question.type == "proportion" else None)
    return {"state": state, "group": group}


def _concerns(question: Question, collectivite: Collectivite) -> bool:
    """Whether the question is asked to the collectivité (its type among the question's types)."""
    return not question.types_concernes or bool(identite_of(collectivite).type & set(question.types_concernes))

