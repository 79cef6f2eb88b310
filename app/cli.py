"""Registers the Flask CLI groups of app.commands (`flask bench` comes from the benchmarks
package, through its entry point in pyproject.toml)."""
from flask import Flask

# Importing a command module adds its commands to their group.
from app.commands import audits, collectivites, content, database, demo, exports, indicateurs, scenarios, scores  # noqa: F401
from app.commands import audits_cli, collectivites_cli, content_cli, database_cli, demo_cli, export_cli, indicateurs_cli, scores_cli
from app.commands.worker import worker_command


def register_cli(app: Flask) -> None:
    for group in (audits_cli, content_cli, demo_cli, collectivites_cli, scores_cli, database_cli, export_cli, indicateurs_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker_command)
