"""check_dir and check_with_override on the fixture set and on both shared corpora."""
import math
import os

import pytest

from app.content_loader import check_dir, check_with_override, normalise_path


def test_fixture_tree_orders_points_and_sections(content_dir):
    content, _ = check_dir(content_dir)
    eci = content.referentiels["eci"]
    assert eci.action_level == 2 and eci.nom == "Référentiel d'essai" and eci.points == 100
    assert list(eci.actions)[0] == "eci"
    assert eci.actions["eci_1.2"].children == ["eci_1.2.0", "eci_1.2.1", "eci_1.2.2"]
    assert [eci.actions[key].points for key in eci.actions["eci_1.2"].children] == [0, 15, 15]
    action = eci.actions["eci_1.1.2"]
    assert (action.parent_id, action.depth, action.md_pourcentage, action.categorie) == ("eci_1.1", 3, 75, "mise en œuvre")
    assert action.points == 22.5 and action.md_points is None
    assert (action.source_path, action.source_line) == ("referentiels/eci/1.1.md", 28)
    assert eci.actions["eci_1.1"].sections["perimetre_evaluation"] == "<p>Seul le pilotage est évalué.</p>\n"
    assert content.action("eci_2.2").points == 30 and content.action("cae_1") is None


def test_children_sorted_as_strings_positions_natural(edit):
    kids = "".join(f"##### T{i}\n```yaml\nidentifiant: 2.2.{i}\n```\n" for i in range(1, 12))
    axe = "# Axe\n```yaml\nidentifiant: 2\npoints: 40\n```\n## Actions\n"
    axe += "### A\n```yaml\nidentifiant: 2.1\npoints: 10\n```\n### B\n```yaml\nidentifiant: 2.2\npoints: 30\n```\n"
    root = edit({"referentiels/eci/2.md": f"{axe}#### Actions\n{kids}"})
    content, errors = check_dir(root)
    assert errors == []
    eci = content.referentiels["eci"]
    assert eci.actions["eci_2.2"].children[:3] == ["eci_2.2.1", "eci_2.2.10", "eci_2.2.11"]
    assert eci.actions["eci_2.2.10"].position == 9 and eci.actions["eci_2.2.2"].position == 1
    assert math.isclose(sum(eci.actions[key].points for key in eci.actions["eci_2.2"].children), 30)


def test_other_kinds(content_dir):
    content, _ = check_dir(content_dir)
    collecte = content.questions["collecte"]
    assert collecte.type == "choix" and [c.id for c in collecte.choix] == ["collecte_regie", "collecte_deleguee"]
    assert collecte.choix[0].ordonnancement == 1
    assert content.questions["competence_dechets"].action_ids == ["eci_1.1", "eci_2.1"]
    assert content.questions["part_syndicat"].types_concernes == ["EPCI"]
    regles = content.regles["eci_2.2"]
    assert [(r.kind, r.source_line) for r in regles.regles] == [("reduction", 19), ("score", 24)]
    assert content.regles["eci_2.1"].description.startswith("<p>Sans la compétence")
    assert content.indicateurs["crte_1.1"].groupe == "crte" and content.indicateurs["crte_1.1"].valeur == "eci_1"
    assert content.indicateurs["eci_1"].action_ids == ["eci_2.1"]
    assert content.preuves["rapport_annuel"].action_ids == ["eci_1.2.1", "eci_1.2.2"]
    assert content.thematiques == {"gouvernance": "Gouvernance", "dechets": "Déchets"}
    eci = content.referentiels["eci"]
    assert eci.actions["eci_1.1"].thematique_id == "gouvernance" and eci.actions["eci_1.2"].thematique_id is None


def test_override_checks_pasted_text_in_context(content_dir):
    pasted = "# Nouvelle preuve\n```yaml\nid: nouvelle\nactions: [eci_404]\n```\n## Description\nTexte **gras**.\n"
    content, errors, parsed = check_with_override(content_dir, "preuves/nouvelle.md", pasted)
    assert [str(e) for e in errors] == ["preuves/nouvelle.md:4: La preuve nouvelle référence des actions inconnues: eci_404"]
    assert "nouvelle" in content.preuves and not (content_dir / "preuves/nouvelle.md").exists()
    [node] = parsed.nodes
    assert parsed.kind == "preuves" and node.title == "Nouvelle preuve"
    assert node.sections["description"].html == "<p>Texte <strong>gras</strong>.</p>\n"


def test_override_replaces_an_existing_file_and_flags_unknown_places(content_dir):
    _, errors, _ = check_with_override(content_dir, "referentiels/eci/2.md", "# Axe\n```yaml\nidentifiant: 2\npoints: 41\n```\n")
    assert any("somme fait 101.0" in str(e) for e in errors)
    _, errors, parsed = check_with_override(content_dir, "notes/idee.md", "# Idée\n")
    assert parsed.kind is None and str(errors[0]).startswith("notes/idee.md:1: Emplacement inconnu")


def test_edited_file_is_parsed_again(content_dir):
    check_dir(content_dir)
    path = content_dir / "referentiels/eci/2.md"
    path.write_text(path.read_text().replace("points: 40", "points: 41"))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    _, errors = check_dir(content_dir)
    assert any("somme fait" in str(e) for e in errors)


def test_missing_directory_is_an_error(tmp_path):
    _, errors = check_dir(tmp_path / "absent")
    assert [e.message for e in errors] == ["Dossier de contenu introuvable."]


@pytest.mark.parametrize("edition, counts", [
    ("2025", {"référentiels": 2, "actions": 1839, "questions": 53, "règles": 116, "indicateurs": 0,
              "preuves": 298, "thématiques": 17}),
    ("2022", {"référentiels": 2, "actions": 1846, "questions": 52, "règles": 93, "indicateurs": 180,
              "preuves": 0, "thématiques": 17}),
])
def test_shared_corpora_have_no_error(shared_dir, edition, counts):
    content, errors = check_dir(shared_dir / "referentiels" / edition / "markdown")
    assert [str(e) for e in errors] == []
    assert content.counts() == counts
    cae, eci = content.referentiels["cae"], content.referentiels["eci"]
    assert (cae.action_level, eci.action_level) == (3, 2)
    assert cae.points == 500 and eci.points == 500
    assert len(content.regles) == (105 if edition == "2025" else 85)


def test_2025_points_follow_the_spec(shared_dir):
    content, _ = check_dir(shared_dir / "referentiels" / "2025" / "markdown")
    actions = content.referentiels["eci"].actions
    assert [actions[f"eci_2.3.{i}"].points for i in range(4)] == [0.0] + [20 / 3] * 3
    cae = content.referentiels["cae"].actions
    assert len(content.referentiels["cae"].actions) == 1471
    assert cae["cae_1.2.3.3.1"].md_points == 1
    assert cae["cae_1.2.3.2.10"].points == 5 / 22 and cae["cae_1.2.3.2"].children[1] == "cae_1.2.3.2.10"


@pytest.mark.parametrize("written", [
    "referentiels/cae/1.md", "./referentiels/cae/1.md", "referentiels//cae/1.md", " /referentiels\\cae/1.md ",
])
def test_relative_paths_are_normalised(written):
    assert normalise_path(written) == "referentiels/cae/1.md"


def test_an_empty_path_stays_empty():
    assert normalise_path(" ./ ") == ""
