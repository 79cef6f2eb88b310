"""WSGI entry point for gunicorn: `gunicorn -k gthread wsgi:app`."""
from app import create_app

app = create_app()
