"""Write checked definitions, one transaction: upsert by id (definitions of other files are kept)
and replace the action links of the definitions written."""
from dataclasses import asdict

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.indicateur_defs.model import Definition
from app.models.indicateurs import IndicateurDefinition, IndicateurDefinitionAction

_CHUNK = 500  # ids per IN (...) clause


def stored_ids(session: Session) -> set[str]:
    return set(session.scalars(select(IndicateurDefinition.id)))


def store(session: Session, definitions: list[Definition]) -> int:
    rows = [asdict(d) for d in definitions]
    existing = stored_ids(session)
    try:
        new = [row for row in rows if row["id"] not in existing]
        old = [row for row in rows if row["id"] in existing]
        if new:
            session.execute(insert(IndicateurDefinition), new)
        if old:
            session.execute(update(IndicateurDefinition), old)
        ids = [row["id"] for row in rows]
        for start in range(0, len(ids), _CHUNK):
            session.execute(delete(IndicateurDefinitionAction)
                            .where(IndicateurDefinitionAction.indicateur_id.in_(ids[start:start + _CHUNK])))
        links = [{"indicateur_id": d.id, "action_id": a} for d in definitions for a in dict.fromkeys(d.action_ids)]
        if links:
            session.execute(insert(IndicateurDefinitionAction), links)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return len(rows)
