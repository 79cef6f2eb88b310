"""`flask content check` and `flask content load`: counts, `path:line: message` errors, exit codes."""
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Action
from tests.fixtures.content import VALID, valid_copy


def broken_copy(tmp_path) -> Path:
    target = valid_copy(tmp_path)
    (target / "referentiels/eci/3.1.md").write_text("# Orpheline\n```yaml\nidentifiant: 3.1\n```\n")
    (target / "questions/essai.md").write_text("# Q ?\n```yaml\nid: q\ntype: choix\nthematique_id: x\n```\n")
    return target


def test_check_valid_directory(runner):
    result = runner.invoke(args=["content", "check", str(VALID)])
    assert result.exit_code == 0, result.output
    assert "1 référentiels, 14 actions, 3 questions, 3 règles, 2 indicateurs, 2 preuves, 2 thématiques" in result.output
    assert "Aucune erreur." in result.output


def test_check_lists_every_error_and_fails(runner, tmp_path):
    result = runner.invoke(args=["content", "check", str(broken_copy(tmp_path))])
    assert result.exit_code == 1
    assert "referentiels/eci/3.1.md:3: L'action 3.1 est orpheline !" in result.output
    assert ("questions/essai.md:1: Les questions suivantes sont de types 'choix' mais ne spécifient aucun choix: q"
            in result.output)


def test_check_defaults_to_content_dir(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "CONTENT_DIR", str(VALID))
    assert runner.invoke(args=["content", "check"]).exit_code == 0


def test_load_prints_counts_and_time(runner, app_context):
    result = runner.invoke(args=["content", "load", str(VALID)])
    assert result.exit_code == 0, result.output
    assert "14 actions" in result.output and "Contenu chargé en" in result.output
    assert db.session.scalar(select(func.count()).select_from(Action)) == 14
    again = runner.invoke(args=["content", "load", str(VALID)])
    assert "Contenu inchangé" in again.output


def test_load_refuses_invalid_content(runner, app_context, tmp_path):
    result = runner.invoke(args=["content", "load", str(broken_copy(tmp_path))])
    assert result.exit_code == 1
    assert "rien n'a été chargé" in result.output and "L'action 3.1 est orpheline !" in result.output
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_check_shared_2025_corpus(runner, shared_dir):
    result = runner.invoke(args=["content", "check", str(shared_dir / "referentiels/2025/markdown")])
    assert result.exit_code == 0, result.output
    assert "1839 actions" in result.output
