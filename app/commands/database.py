"""`flask database grant-app-role [ROLE]`: what the app's PostgreSQL role may do (README, "Base
PostgreSQL : rôles et sécurité au niveau des lignes").

Run as the tables' owner (MIGRATION_DATABASE_URL, else DATABASE_URL). ROLE (default: DATABASE_URL's
user) gets read and write rights on the schema's tables, now and for the tables later migrations
create (default privileges), but no write on alembic_version. It must be subject to row-level
security: neither superuser, nor BYPASSRLS, nor a member of the owner.
"""
import click
from flask import current_app
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.commands import database_cli


class GrantRefused(ValueError):
    """Nothing granted: the message (French) says why."""


def grant_app_role(connection: Connection, role: str) -> None:
    """Grant `role` what the app needs; `connection` is the tables' owner's."""
    bypass = connection.execute(
        text("SELECT rolsuper OR rolbypassrls OR pg_has_role(rolname, current_user, 'MEMBER') FROM pg_roles "
             "WHERE rolname = :role"),
        {"role": role},
    ).scalar_one_or_none()
    if bypass is None:
        raise GrantRefused(f"le rôle PostgreSQL {role!r} n'existe pas")
    if bypass:
        raise GrantRefused(f"le rôle {role!r} échappe à la sécurité au niveau des lignes (superutilisateur, "
                          "BYPASSRLS, ou propriétaire des tables) : l'application doit utiliser un autre rôle")
    if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        raise GrantRefused("la base n'est pas migrée : lancez d'abord `flask db upgrade`")
    quoted = connection.dialect.identifier_preparer.quote(role)
    schema = connection.dialect.identifier_preparer.quote(connection.execute(text("SELECT current_schema()")).scalar_one())
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON TABLE {schema}.alembic_version FROM {quoted}",
    ):
        connection.execute(text(statement))


@database_cli.command("grant-app-role")
@click.argument("role", required=False)
def grant_app_role_command(role: str | None) -> None:
    """Donne au rôle PostgreSQL de l'application (défaut : l'utilisateur de DATABASE_URL) ses droits sur les tables."""
    app_url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    owner_url = current_app.config["MIGRATION_DATABASE_URL"] or app_url
    if make_url(owner_url).get_backend_name() != "postgresql":
        raise click.ClickException("SQLite n'a ni rôles ni sécurité au niveau des lignes : rien à faire.")
    role = role or app_url.username
    if not role:
        raise click.ClickException("indiquez le rôle : DATABASE_URL n'en nomme pas")
    engine = create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            grant_app_role(connection, role)
    except GrantRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Droits accordés au rôle {role}.")
