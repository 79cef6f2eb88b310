"""Test harness: one suite, two backends.

TEST_BACKEND=sqlite (default): a fresh SQLite file, jobs in-process, in-process hub.
TEST_BACKEND=postgres: a uniquely named database on TEST_DATABASE_URL's server (default
127.0.0.1:5432, database `test`), real Redis on TEST_REDIS_URL (default db 15). Both servers
must answer: the run fails, never skips, when they don't. As in production, migrations run as
TEST_DATABASE_URL's user (the owner) and the app connects as APP_ROLE, a role subject to
row-level security (created on the server if missing, granted with `flask database grant-app-role`).
Either way the schema comes from the Alembic migrations.
"""
import contextvars
import os
import uuid
from pathlib import Path

import flask_migrate
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.commands.database import grant_app_role
from app.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
BACKEND = os.environ.get("TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
APP_ROLE = "tet_app_test"


def pytest_collection_modifyitems(config, items):
    if BACKEND == "postgres":
        return
    skip = pytest.mark.skip(reason="runs in the PostgreSQL + Redis pass (TEST_BACKEND=postgres)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"{SHARED} is missing: the tests read the shared reference material from there"
    return SHARED


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"tet_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def owner_engine(database_url):
    """The tables' owner (PostgreSQL: it bypasses row-level security): migrations, emptying tables."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_database_url(database_url, owner_engine):
    """Where the app connects: on PostgreSQL as APP_ROLE (no password: the test server trusts local
    connections), created once per server, shared by concurrent runs."""
    if BACKEND != "postgres":
        return database_url
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- created by a concurrent run
            END $$"""))
    return make_url(database_url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def redis_url():
    if BACKEND != "postgres":
        return None
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()  # fails the run when Redis is down
    return REDIS_URL


class IsolatedClient(FlaskClient):
    """Requests as a server runs them: each in its own app context, even inside a test's `app_context`
    (Flask would otherwise reuse that context, and its `g` - where flask-login caches the user -
    would outlive the request), and the response read to its end and closed (`call_on_close` work
    such as deferred mails runs before the test goes on)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, app_database_url, owner_engine, redis_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app_database_url,
            "MIGRATION_DATABASE_URL": database_url if BACKEND == "postgres" else None,
            "REDIS_URL": redis_url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "SECRET_KEY": "test-secret",
            # Cheapest argon2 (memory >= 8 KiB per lane, 4 lanes): hashing is not what tests measure.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 32,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        flask_migrate.upgrade()
    if BACKEND == "postgres":
        with owner_engine.begin() as connection:
            grant_app_role(connection, APP_ROLE)
    return app


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts from empty tables (the schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        # As the owner: row-level security would keep the app's role from deleting most rows.
        engine = request.getfixturevalue("owner_engine") if BACKEND == "postgres" else db.engine
        with engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def csrf_enabled(app):
    """CSRF checks on, as in production (the test config turns them off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False
