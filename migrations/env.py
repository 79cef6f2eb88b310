"""Alembic environment: runs inside the Flask app (flask db upgrade) on the app's engine, or as
the tables' owner when MIGRATION_DATABASE_URL is set (the app's role is then subject to RLS)."""
import logging

from alembic import context
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from app.extensions import db

logger = logging.getLogger("alembic.env")


def _skip_empty_autogenerate(context_, revision, directives):
    if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online() -> None:
    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    owner_url = current_app.config.get("MIGRATION_DATABASE_URL")
    engine = create_engine(owner_url, poolclass=NullPool) if owner_url else db.engine
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run `flask db upgrade` against a database.")
run_migrations_online()
