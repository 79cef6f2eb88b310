"""Flask CLI groups: `flask content …`, `flask bench …`, `flask demo …`."""
from flask import Flask


def register_cli(app: Flask) -> None:
    pass
