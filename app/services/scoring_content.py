"""Build the engine's ScoringContent from the loaded content (database) or from checked content.

The children lists given to the engine are sorted by id *as strings* (like the 2025 converter):
the order of the floating-point sums, not the display order.

A rule set without any rule (`cae_3.2.1.1` in the 2025 corpus) still personalises its action
(its point_potentiel_perso is reported): rule sets are the Personnalisation rows plus the actions
of any rule.
"""
from sqlalchemy import select

from app.models.content import Action, ContentVersion, Personnalisation, PersonnalisationRegle, Question, Referentiel
from app.scoring import QuestionSpec, ReferentielTree, RuleSet, ScoringContent, build_scoring_content

# ((ContentVersion id, hash, loaded_at), content) of the latest load seen. Web threads and the
# in-process job thread share it: it is replaced by one assignment, never cleared then filled.
_latest: tuple[tuple, ScoringContent] | None = None


def scoring_content_from_content(content) -> ScoringContent:
    """From app.content_loader's Content (check_dir's output, nothing stored)."""
    trees = [
        ReferentielTree(
            id=referentiel.id,
            children={action_id: sorted(action.children) for action_id, action in referentiel.actions.items()},
            points={action_id: action.points or 0.0 for action_id, action in referentiel.actions.items()},
            action_level=referentiel.action_level,
        )
        for referentiel in content.referentiels.values()
    ]
    rule_sets = [_rule_set(action_id, ((r.kind, r.formule) for r in rs.regles)) for action_id, rs in content.regles.items()]
    questions = [
        QuestionSpec(question.id, question.type, tuple(choix.id for choix in question.choix))
        for question in content.questions.values()
    ]
    return build_scoring_content(trees, rule_sets, questions)


def scoring_content_from_db(session) -> ScoringContent | None:
    """From the tables of the latest content load (None before any load)."""
    latest = latest_scoring_content(session)
    return latest and latest[1]


# The columns that identify a content load (what the cache is keyed with), latest first.
LATEST_VERSION = (
    select(ContentVersion.id, ContentVersion.content_hash, ContentVersion.loaded_at)
    .order_by(ContentVersion.id.desc())
    .limit(1)
)


def latest_scoring_content(session) -> tuple[int, ScoringContent] | None:
    """(ContentVersion id, content) of the latest content load, with ONE read of the version;
    None before any load."""
    version = session.execute(LATEST_VERSION).first()
    return None if version is None else scoring_content_of(session, tuple(version))


def scoring_content_of(session, version: tuple) -> tuple[int, ScoringContent]:
    """(id, content) of the load `version` ((id, hash, loaded_at), as LATEST_VERSION reads it).
    Cached per version (keyed with the hash and load time too: SQLite may reuse the id of a
    deleted row)."""
    global _latest
    latest = _latest
    if latest is None or latest[0] != version:
        latest = (version, _build_from_db(session))  # two threads may both build it: same result
        _latest = latest
    return version[0], latest[1]


def _build_from_db(session) -> ScoringContent:
    actions = session.execute(
        select(Action.id, Action.referentiel_id, Action.parent_id, Action.points)
        .join(Referentiel, Referentiel.id == Action.referentiel_id)
        .where(Action.archived.is_(False), Referentiel.archived.is_(False))
    ).all()
    children: dict[str, dict[str, list[str]]] = {}
    points: dict[str, dict[str, float]] = {}
    for action_id, referentiel_id, _, action_points in actions:
        children.setdefault(referentiel_id, {})[action_id] = []
        points.setdefault(referentiel_id, {})[action_id] = action_points
    for action_id, referentiel_id, parent_id, _ in actions:
        if parent_id is not None:
            children[referentiel_id][parent_id].append(action_id)
    levels = dict(session.execute(select(Referentiel.id, Referentiel.action_level)).all())
    trees = [
        ReferentielTree(ref, {a: sorted(kids) for a, kids in children[ref].items()}, points[ref], levels[ref])
        for ref in sorted(children)
    ]
    by_action: dict[str, list[tuple[str, str]]] = {
        action_id: [] for action_id in session.scalars(select(Personnalisation.action_id))
    }
    for action_id, kind, formule in session.execute(
        select(PersonnalisationRegle.action_id, PersonnalisationRegle.kind, PersonnalisationRegle.formule)
    ).all():
        by_action.setdefault(action_id, []).append((kind, formule))
    questions = [
        QuestionSpec(q.id, q.type, tuple(choix.id for choix in q.choix))
        for q in session.scalars(select(Question).where(Question.archived.is_(False)))
    ]
    return build_scoring_content(
        trees, [_rule_set(action_id, rules) for action_id, rules in by_action.items()], questions
    )


def _rule_set(action_id: str, rules) -> RuleSet:
    formulas = dict(rules)
    return RuleSet(action_id, formulas.get("desactivation"), formulas.get("reduction"), formulas.get("score"))
