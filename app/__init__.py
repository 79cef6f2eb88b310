"""Application factory. No I/O and no schema creation here: the schema comes from migrations."""
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app.bad_input import init_bad_input
from app.config import PROJECT_ROOT, Config
from app.extensions import csrf, db, login_manager, migrate, sock
from app.security_headers import register_security_headers
from app.static_assets import register_static_assets


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "static"), instance_path=str(PROJECT_ROOT / "instance"))
    app.config.from_object(Config(**(config or {})))
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    register_security_headers(app)
    register_static_assets(app)
    init_bad_input(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    sock.init_app(app)
    csrf.init_app(app)

    from app import models, rls  # noqa: F401  (registers the tables on the metadata, the RLS session hooks)
    from app.cli import register_cli
    from app.filters import register_filters
    from app.pilotage_rows import mesures_rows_html, priorisation_rows_html
    from app.routes import register_blueprints
    from app.score_slot import score_slot

    register_filters(app)
    app.add_template_global(score_slot)
    app.add_template_global(mesures_rows_html)
    app.add_template_global(priorisation_rows_html)
    init_transports(app)
    register_blueprints(app)
    register_cli(app)
    return app


def init_transports(app: Flask) -> None:
    """The live hub and the job queue, both chosen from REDIS_URL."""
    from app.live import init_hub
    from app.queue import init_queue

    init_hub(app)
    init_queue(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # SQLite enforces foreign keys only when asked, per connection.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
