"""Configuration, read only from the environment.

DATABASE_URL  SQLAlchemy URL (default: SQLite file under instance/)
MIGRATION_DATABASE_URL  PostgreSQL: the tables' owner, for `flask db upgrade` (unset: DATABASE_URL);
              the app then connects as a role subject to row-level security (see app/rls.py)
REDIS_URL     unset: jobs run in-process and pushes use the in-process hub
LIVE_CHANNEL_PREFIX  prefix of the Redis pub/sub channels (default: live:db<N>, N from REDIS_URL)
SECRET_KEY    unset: generated once and kept in instance/secret_key
CONTENT_DIR   markdown content to load (default: content/)
UPLOAD_DIR    where preuve files are stored (default: instance/uploads)
LABELLISATION_DIR  étoiles and criteria of the labellisation, etoiles.csv and criteres_action.csv
              (default: the shared folder's labellisation/, beside the project)
MAIL_SERVER   SMTP host for password-reset mails (unset: mails are written to the log);
              MAIL_PORT (587), MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM, MAIL_USE_TLS (1)
BASE_URL      public address of the site, used in links sent outside it (reset mails, invitations);
              default http://127.0.0.1:5000 (never taken from the request's Host header)
TRUSTED_HOSTS comma-separated host names the site answers to (unset: any)
TRUSTED_PROXIES number of reverse proxies in front of the app whose X-Forwarded-For/-Proto
              headers are trusted (default 0: none)
Set in code only: ARGON2_TIME_COST / ARGON2_MEMORY_COST (argon2-cffi's defaults; the tests lower them);
REMEMBER_COOKIE_DURATION, also the longest life of a signed-in session; the rate limits *_LIMIT,
each (attempts allowed, sliding window), beyond which the form answers 429 (app.services.accounts).
"""
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import argon2

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        _publish_new_key(path)
    return path.read_text().strip()


def _publish_new_key(path: Path) -> None:
    """Write a fresh key beside `path`, then hard-link it into place: the link either creates `path`
    with its full content or fails because another process got there first (then its key is kept)."""
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(draft)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres:// URLs (the form ops usually have)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    def __init__(self, **overrides):
        self.SECRET_KEY = _secret_key()
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'tet.db'}"
        )
        self.MIGRATION_DATABASE_URL = normalise_database_url(os.environ.get("MIGRATION_DATABASE_URL") or "") or None
        # A restarted database leaves dead connections in the pool: check each one when taken.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.LIVE_CHANNEL_PREFIX = os.environ.get("LIVE_CHANNEL_PREFIX") or None
        self.CONTENT_DIR = os.environ.get("CONTENT_DIR") or str(PROJECT_ROOT / "content")
        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
        self.LABELLISATION_DIR = os.environ.get("LABELLISATION_DIR") or str(PROJECT_ROOT.parent / "shared" / "labellisation")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_DURATION = timedelta(days=30)
        # Failed logins per e-mail + IP; distinct e-mails with failed logins per IP (password spraying);
        # reset mails per e-mail typed (account or not: no account probing) and per IP; sign-ups per IP.
        self.LOGIN_LIMIT = (5, timedelta(minutes=15))
        self.LOGIN_SPRAY_LIMIT = (20, timedelta(hours=1))
        self.RESET_EMAIL_LIMIT = (3, timedelta(hours=1))
        self.RESET_IP_LIMIT = (10, timedelta(hours=1))
        self.SIGNUP_IP_LIMIT = (20, timedelta(hours=1))
        self.OPEN_DATA_IP_LIMIT = (120, timedelta(minutes=1))  # /api/v1 calls per IP
        self.PASSWORD_RESET_MAX_AGE = 3600
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(os.environ.get("MAIL_PORT") or 587)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_FROM = os.environ.get("MAIL_FROM") or "ne-pas-repondre@territoires-en-transitions.local"
        self.MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
        self.MAX_CONTENT_LENGTH = 20 * 1024 * 1024
        self.BASE_URL = (os.environ.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
        hosts = [host.strip() for host in os.environ.get("TRUSTED_HOSTS", "").split(",")]
        self.TRUSTED_HOSTS = [host for host in hosts if host] or None
        self.TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES") or 0)
        # The CSRF token is bound to the session: no extra expiry that would drop a long editing session.
        self.WTF_CSRF_TIME_LIMIT = None
        self.ARGON2_TIME_COST = argon2.DEFAULT_TIME_COST
        self.ARGON2_MEMORY_COST = argon2.DEFAULT_MEMORY_COST
        self.__dict__.update(overrides)
