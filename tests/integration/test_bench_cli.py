"""`flask bench …` lives outside the app: the Flask CLI finds it through the package's entry
point, and creating the app loads none of the benchmark code."""
import subprocess
import sys

from click.testing import CliRunner
from flask.cli import cli as flask_cli

from tests.conftest import PROJECT_ROOT


def test_the_flask_cli_finds_the_bench_group_through_its_entry_point(tmp_path, monkeypatch):
    # No app to load from here: `bench` can only come from the entry point.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLASK_APP", raising=False)
    result = CliRunner().invoke(flask_cli, ["bench", "--help"])
    assert result.exit_code == 0, f"{result.output}\n(entry point missing? reinstall: make setup)"
    commands = result.output.split("Commands:", 1)[1].split()
    assert {"content", "push", "scoring"} <= set(commands), result.output


def test_creating_the_app_imports_no_benchmark_module():
    probe = ("import sys; from app import create_app; create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
             "print(sorted(name for name in sys.modules if 'bench' in name))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
