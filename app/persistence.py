"""Database helpers shared by the services: naive-UTC timestamps and portable upserts
(PostgreSQL and SQLite both have INSERT … ON CONFLICT, each in its own dialect module)."""
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def utcnow() -> datetime:
    """Naive UTC, as stored in the DateTime columns."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_statement(table):
    """An INSERT of the session's dialect, which offers on_conflict_do_update/do_nothing."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(model, key: dict, values: dict, on_update: dict | None = None) -> None:
    """Insert key + values, or update the row having that unique key with on_update (default:
    values; empty: leave it as it is). One statement, safe against a concurrent insert."""
    statement = insert_statement(model).values(**key, **values)
    update_values = values if on_update is None else on_update
    if update_values:
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=update_values)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    db.session.execute(statement)


def upsert_rows(model, key_names: tuple[str, ...], rows: list[dict]) -> None:
    """Insert the rows, each updating the row that has its unique key instead when there is one:
    one statement for all (rows: every column of the model to write, the key's included)."""
    if not rows:
        return
    statement = insert_statement(model).values(rows)
    excluded = statement.excluded
    db.session.execute(statement.on_conflict_do_update(
        index_elements=list(key_names),
        set_={name: excluded[name] for name in rows[0] if name not in key_names},
    ))
