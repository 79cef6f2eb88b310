"""Registers the Flask CLI groups of app.commands."""
from importlib import import_module

from flask import Flask

from app.commands import (
    COMMAND_MODULES, bench_cli, collectivites_cli, content_cli, database_cli, demo_cli, scores_cli,
)


def register_cli(app: Flask) -> None:
    for name in COMMAND_MODULES:
        import_module(f"app.commands.{name}")
    for group in (content_cli, bench_cli, demo_cli, collectivites_cli, scores_cli, database_cli):
        app.cli.add_command(group)
    app.cli.add_command(import_module("app.commands.worker").worker_command)
