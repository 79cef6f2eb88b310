"""Storing checked content: one transaction, idempotent, new editions archive what disappeared."""
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.content_loader import check_dir, load_dir
from app.content_loader import store as store_module
from app.content_loader.store import store
from app.extensions import db
from app.models import (
    Action,
    ContentVersion,
    PersonnalisationRegle,
    Preuve,
    PreuveAction,
    Question,
    QuestionChoix,
    Referentiel,
)
from app.services.scoring_content import scoring_content_from_db
from tests.fixtures.content import VALID, valid_copy



@pytest.fixture
def content_dir(tmp_path) -> Path:
    return valid_copy(tmp_path)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_load_stores_every_kind(app_context, content_dir):
    report = load_dir(content_dir, db.session)
    assert report.ok and report.status == "chargé" and report.removed_ids == []
    action = db.session.get(Action, "eci_1.1.2")
    assert (action.points, action.md_pourcentage, action.parent_id, action.position) == (22.5, 75, "eci_1.1", 1)
    assert action.preuve == "<p>Un tableau de bord.</p>\n" and not action.archived
    assert db.session.get(Action, "eci_1.1").perimetre_evaluation.startswith("<p>Seul")
    assert db.session.get(Action, "eci_1.1").thematique_id == "gouvernance" and action.thematique_id is None
    assert [c.id for c in db.session.get(Question, "collecte").choix] == ["collecte_regie", "collecte_deleguee"]
    regle = db.session.scalars(select(PersonnalisationRegle).where(PersonnalisationRegle.kind == "score")).one()
    assert (regle.action_id, regle.source_path, regle.source_line) == ("eci_2.2", "personnalisations/essai.md", 24)
    assert count(PreuveAction) == 3
    version = db.session.scalars(select(ContentVersion)).one()
    assert version.counts["actions"] == 14 and version.content_hash == check_dir(content_dir)[0].content_hash


def test_same_content_twice_changes_nothing(app_context, content_dir):
    load_dir(content_dir, db.session)
    report = load_dir(content_dir, db.session)
    assert report.status == "inchangé"
    assert count(ContentVersion) == 1


def test_new_edition_updates_in_place_and_archives_what_disappeared(app_context, content_dir):
    load_dir(content_dir, db.session)
    (content_dir / "referentiels/eci/1.2.md").unlink()
    (content_dir / "preuves/essai.md").write_text("# Seule preuve\n```yaml\nid: tableau_de_bord\n```\n")
    (content_dir / "referentiels/eci/1.1.md").write_text(
        (content_dir / "referentiels/eci/1.1.md").read_text().replace("Nommer une équipe", "Nommer un référent"))
    axe = content_dir / "referentiels/eci/1.md"
    axe.write_text(axe.read_text().replace("points: 60", "points: 30"))
    eci = content_dir / "referentiels/eci/eci.md"
    eci.write_text(eci.read_text().replace("points: 100", "points: 70"))
    (content_dir / "questions/essai.md").write_text(
        (content_dir / "questions/essai.md").read_text().replace("eci_1.2.1", "eci_1.1.1"))
    (content_dir / "preuves/essai.md").write_text("# Seule preuve\n```yaml\nid: tableau_de_bord\n```\n")

    report = load_dir(content_dir, db.session)
    assert report.errors == [] and report.status == "chargé"
    assert report.removed_ids == ["eci_1.2", "eci_1.2.0", "eci_1.2.1", "eci_1.2.2", "preuve:rapport_annuel"]
    assert db.session.get(Action, "eci_1.2").archived and db.session.get(Preuve, "rapport_annuel").archived
    assert db.session.get(Action, "eci_1.1.1").nom == "Nommer un référent"
    assert count(Action) == 14 and count(PreuveAction) == 0
    assert db.session.scalars(select(ContentVersion.removed_ids).order_by(ContentVersion.id.desc())).first() == report.removed_ids

    shutil.copy(VALID / "referentiels/eci/1.2.md", content_dir / "referentiels/eci/1.2.md")
    for name in ("eci.md", "1.md"):
        shutil.copy(VALID / "referentiels/eci" / name, content_dir / "referentiels/eci" / name)
    assert load_dir(content_dir, db.session).removed_ids == []
    assert not db.session.get(Action, "eci_1.2").archived


def test_failed_load_leaves_previous_content(app_context, content_dir, monkeypatch):
    load_dir(content_dir, db.session)
    axe = content_dir / "referentiels/eci/2.md"
    axe.write_text(axe.read_text().replace("Mise en œuvre", "Nouveau nom"))

    def broken(*args):
        raise RuntimeError("panne au milieu du chargement")

    monkeypatch.setattr(store_module, "_links", broken)
    with pytest.raises(RuntimeError):
        load_dir(content_dir, db.session)
    assert db.session.get(Action, "eci_2").nom == "Mise en œuvre"
    assert count(ContentVersion) == 1 and count(QuestionChoix) == 2


def test_invalid_content_writes_nothing(app_context, content_dir):
    (content_dir / "referentiels/eci/eci.md").unlink()
    report = load_dir(content_dir, db.session)
    assert not report.ok and report.errors
    assert count(Action) == 0 and count(ContentVersion) == 0


def test_both_shared_corpora_load_one_after_the_other(app_context, shared_dir):
    first = load_dir(shared_dir / "referentiels/2025/markdown", db.session)
    assert first.errors == [] and count(Action) == 1839
    assert db.session.get(Action, "cae_1.1.1").thematique_id == "strategie"
    content, _ = check_dir(shared_dir / "referentiels/2025/markdown")
    assert store(db.session, content, "à nouveau").status == "inchangé"
    second = load_dir(shared_dir / "referentiels/2022/markdown", db.session)
    assert second.errors == [] and "cae_5.2.2.9" in second.removed_ids
    assert db.session.get(Action, "cae_5.2.2.9").archived


def test_a_referentiel_gone_from_the_content_is_archived(app_context, content_dir):
    demo = content_dir / "referentiels/demo"
    demo.mkdir()
    (demo / "demo.md").write_text('# Démo\n```yaml\nidentifiant: ""\npoints: 10\nreferentiel: "demo"\n```\n')
    (demo / "1.md").write_text("# Axe\n```yaml\nidentifiant: 1\n```\n")
    assert load_dir(content_dir, db.session).errors == []
    assert set(scoring_content_from_db(db.session).trees) == {"eci", "demo"}

    shutil.rmtree(demo)
    report = load_dir(content_dir, db.session)
    assert report.removed_ids == ["referentiel:demo", "demo", "demo_1"]
    assert db.session.get(Referentiel, "demo").archived and not db.session.get(Referentiel, "eci").archived
    assert set(scoring_content_from_db(db.session).trees) == {"eci"}
