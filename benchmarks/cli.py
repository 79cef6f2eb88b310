"""The `flask bench` group, found by the Flask CLI through the `flask.commands` entry point of
pyproject.toml: the app itself never imports the benchmarks."""
import click

from benchmarks.content import bench_content_command
from benchmarks.indicateurs import bench_indicateurs_command
from benchmarks.labellisation import bench_labellisation_command
from benchmarks.pages import bench_pages_command
from benchmarks.plans import bench_plans_command
from benchmarks.push import bench_push_command
from benchmarks.scoring import bench_scoring_command
from benchmarks.sharing import bench_sharing_command

bench_cli = click.Group("bench", help="Mesures de performance (affiche des chiffres).",
                        commands=[bench_content_command, bench_scoring_command, bench_push_command,
                                  bench_pages_command, bench_indicateurs_command, bench_plans_command,
                                  bench_sharing_command, bench_labellisation_command])
