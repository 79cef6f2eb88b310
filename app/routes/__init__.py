"""Blueprint registration: one module per area."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.routes import main

    app.register_blueprint(main.bp)
