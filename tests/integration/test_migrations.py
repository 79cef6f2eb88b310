"""The schema exists only through migrations: they apply, roll back, re-apply, and match the models."""
import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db


def test_models_and_migrations_do_not_drift(app_context):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_last_revision_downgrades_and_upgrades_again(app_context):
    tables_before = set(inspect(db.engine).get_table_names())
    flask_migrate.downgrade(revision="-1")
    flask_migrate.upgrade()
    assert set(inspect(db.engine).get_table_names()) == tables_before
