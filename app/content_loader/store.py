"""Write checked Content to the database, in one transaction (the only module importing models).

- Same content hash as the last loaded version: nothing is written ("inchangé").
- Otherwise rows are updated in place by id, new ones inserted; référentiels, actions,
  questions, indicateurs and preuves that disappeared are marked `archived` (user data keyed on
  their id is kept) and reported (action ids as they are, others as `referentiel:<id>`,
  `question:<id>`, `indicateur:<id>`, `preuve:<id>`); rules, choix, thématiques and the action
  links are replaced.
- A ContentVersion row records the hash, source, time, counts and removed ids.
Any failure rolls the whole load back, leaving the previous content untouched.
"""
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.content_loader.model import Content, ContentError
from app.models.content import (
    Action,
    ContentVersion,
    Indicateur,
    IndicateurAction,
    Personnalisation,
    PersonnalisationRegle,
    Preuve,
    PreuveAction,
    Question,
    QuestionAction,
    QuestionChoix,
    Referentiel,
    Thematique,
)
from app.persistence import utcnow

UNCHANGED, LOADED, FAILED = "inchangé", "chargé", "erreurs"
_CHUNK = 500  # ids per IN (...) clause, well under SQLite's parameter limit


@dataclass
class LoadReport:
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    removed_ids: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    version_id: int | None = None
    seconds: float = 0.0

    @classmethod
    def failed(cls, errors: list[ContentError]) -> "LoadReport":
        return cls(status=FAILED, errors=errors)

    @property
    def ok(self) -> bool:
        return self.status != FAILED


def store(session: Session, content: Content, source: str, progress: Callable[[int], None] | None = None) -> LoadReport:
    started = time.perf_counter()
    advance = progress or (lambda _count: None)
    latest = session.scalars(select(ContentVersion).order_by(ContentVersion.id.desc()).limit(1)).first()
    if latest is not None and latest.content_hash == content.content_hash:
        advance(total_steps(content))
        return LoadReport(UNCHANGED, content.counts(), [], [], latest.id, time.perf_counter() - started)
    try:
        removed = _write(session, content, advance)
        version = ContentVersion(
            content_hash=content.content_hash, source=source, loaded_at=utcnow(),
            counts=content.counts(), removed_ids=removed,
        )
        session.add(version)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return LoadReport(LOADED, content.counts(), removed, [], version.id, time.perf_counter() - started)


def total_steps(content: Content) -> int:
    """Length of the progress bar: one step per stored row of the main tables."""
    counts = content.counts()
    return counts["actions"] + counts["questions"] + counts["règles"] + counts["indicateurs"] + counts["preuves"]


def _write(session: Session, content: Content, advance: Callable[[int], None]) -> list[str]:
    removed: list[str] = []
    removed += _sync(session, Referentiel, [
        {"id": ref.id, "nom": ref.nom, "action_level": ref.action_level, "points": ref.points}
        for ref in content.referentiels.values()
    ], label="referentiel:")
    action_rows = [_action_row(action) for ref in content.referentiels.values() for action in ref.actions.values()]
    removed += _sync(session, Action, action_rows)
    advance(len(action_rows))

    _replace(session, Thematique, [{"id": key, "nom": nom} for key, nom in content.thematiques.items()])
    questions = content.questions.values()
    removed += _sync(session, Question, [{
        "id": q.id, "type": q.type, "formulation": q.formulation, "description": q.description,
        "thematique_id": q.thematique_id, "ordonnancement": q.ordonnancement, "types_concernes": q.types_concernes,
    } for q in questions], label="question:")
    _replace(session, QuestionChoix, [
        {"id": c.id, "question_id": q.id, "formulation": c.formulation, "ordonnancement": c.ordonnancement,
         "position": position}
        for q in questions for position, c in enumerate(q.choix)
    ])
    _replace(session, QuestionAction, _links("question_id", {q.id: q.action_ids for q in questions}))
    advance(len(content.questions))

    _replace(session, Personnalisation, [{
        "action_id": s.action_id, "titre": s.titre, "description": s.description,
        "source_path": s.source_path, "source_line": s.source_line,
    } for s in content.regles.values()])
    regle_rows = [{
        "action_id": s.action_id, "kind": r.kind, "formule": r.formule, "description": r.description,
        "source_path": r.source_path, "source_line": r.source_line,
    } for s in content.regles.values() for r in s.regles]
    _replace(session, PersonnalisationRegle, regle_rows)
    advance(len(regle_rows))

    indicateurs = content.indicateurs.values()
    removed += _sync(session, Indicateur, [{
        "id": i.id, "groupe": i.groupe, "identifiant": i.identifiant, "nom": i.nom, "unite": i.unite,
        "description": i.description, "valeur_indicateur_id": i.valeur,
    } for i in indicateurs], label="indicateur:")
    _replace(session, IndicateurAction, _links("indicateur_id", {i.id: i.action_ids for i in indicateurs}))
    advance(len(content.indicateurs))

    preuves = content.preuves.values()
    removed += _sync(session, Preuve, [{"id": p.id, "nom": p.nom, "description": p.description} for p in preuves], label="preuve:")
    _replace(session, PreuveAction, _links("preuve_id", {p.id: p.action_ids for p in preuves}))
    advance(len(content.preuves))
    return removed


def _action_row(action) -> dict:
    sections = action.sections
    return {
        "id": action.id, "referentiel_id": action.referentiel, "parent_id": action.parent_id,
        "identifiant": action.identifiant, "nom": action.nom, "depth": action.depth, "position": action.position,
        "points": action.points, "md_points": action.md_points, "md_pourcentage": action.md_pourcentage,
        "categorie": action.categorie, "thematique_id": action.thematique_id, "source_path": action.source_path, "source_line": action.source_line,
        **{name: sections.get(name, "") for name in (
            "description", "contexte", "exemples", "preuve", "ressources", "perimetre_evaluation",
            "reduction_potentiel", "critere",
        )},
    }


def _sync(session: Session, model, rows: list[dict], label: str = "") -> list[str]:
    """Upsert `rows` by id, mark rows absent from `rows` archived and return their ids, each
    prefixed with `label`."""
    existing = dict(session.execute(select(model.id, model.archived)).all())
    rows = [{**row, "archived": False} for row in rows]
    new = [row for row in rows if row["id"] not in existing]
    old = [row for row in rows if row["id"] in existing]
    if new:
        session.execute(insert(model), new)
    if old:
        session.execute(update(model), old)
    kept = {row["id"] for row in rows}
    gone = sorted(key for key, archived in existing.items() if key not in kept and not archived)
    for start in range(0, len(gone), _CHUNK):
        session.execute(update(model).where(model.id.in_(gone[start:start + _CHUNK])).values(archived=True))
    return [label + key for key in gone]


def _replace(session: Session, model, rows: list[dict]) -> None:
    session.execute(delete(model))
    if rows:
        session.execute(insert(model), rows)


def _links(owner_key: str, action_ids: dict[str, list[str]]) -> list[dict]:
    return [{owner_key: owner, "action_id": action_id}
            for owner, ids in action_ids.items() for action_id in dict.fromkeys(ids)]
