"""The generic markdown reader: structure, positions, yaml typing."""
from app.content_loader import parse_text
from app.content_loader.parse import snake

ACTION = """# Action
```yaml
identifiant: 3.10
points: 10  # commentaire
```
Texte perdu après le yaml.
## Description
Premier paragraphe.
### Sous-titre gardé dans la section
```python
# dans un bloc de code : pas un titre
```
<!-- # dans un commentaire : pas un titre
-->
## Actions
### Sous-action
```yaml
identifiant: 3.10.1
```
#### Actions
##### Tâche
```yaml
identifiant: 3.10.1.1
```
#### Description
Un titre trop haut d'un niveau reste une section de la tâche.
##### Autre tâche
```yaml
identifiant: 3.10.1.2
```
### Seconde sous-action
```yaml
identifiant: 3.10.2
```
"""


def test_snake_case_of_titles():
    assert snake("Périmètre de l'évaluation") == "perimetre_de_levaluation"
    assert snake("Réduction de potentiel") == "reduction_de_potentiel"
    assert snake("Règles") == "regles"
    assert snake("Périmètre de l’évaluation") == "perimetre_de_levaluation"


def test_nodes_sections_and_children():
    parsed = parse_text("referentiels/cae/3.10.md", ACTION)
    assert parsed.kind == "referentiel" and parsed.errors == []
    [action] = parsed.nodes
    assert action.title == "Action" and action.line == 1
    assert action.text_value("identifiant") == "3.10"  # not the float 3.1
    assert action.fields["points"] == 10 and action.field_lines["points"] == 4
    assert list(action.sections) == ["description"]
    html = action.sections["description"].html
    assert "<h3>Sous-titre gardé dans la section</h3>" in html
    assert "# dans un bloc de code" in html and "commentaire" not in html
    assert "Texte perdu" not in html
    first, second = action.children["actions"]
    assert [first.title, second.title] == ["Sous-action", "Seconde sous-action"]
    task, other = first.children["actions"]
    assert task.sections["description"].line == 25
    assert "trop haut" in task.sections["description"].html
    assert other.text_value("identifiant") == "3.10.1.2"


def test_yaml_error_points_at_the_line_inside_the_file():
    parsed = parse_text("referentiels/cae/1.md", "# Axe\n```yaml\nidentifiant: 1\npoints: [1\n```\n")
    [error] = parsed.errors
    assert error.path == "referentiels/cae/1.md" and error.line in (4, 5)
    assert error.message.startswith("Erreur dans le formatage du code yaml")


def test_text_after_a_formula_is_the_rule_description():
    text = "# Règle\n```yaml\naction_id: cae_1\n```\n## Règles\n### Désactivation\n```formule\nVRAI\n```\nExplication.\n"
    [regle_set] = parse_text("personnalisations/x.md", text).nodes
    [regle] = regle_set.children["regles"]
    assert regle.formule == "VRAI\n" and regle.formule_line == 7
    assert regle.after_code_html == "<p>Explication.</p>\n"


def test_every_level_one_heading_starts_a_node():
    text = "# Q1 ?\n```yaml\nid: a\n```\n# Q2 ?\n```yaml\nid: b\n```\n## Choix\n### Oui\n```yaml\nid: b_oui\n```\n"
    first, second = parse_text("questions/x.md", text).nodes
    assert first.fields == {"id": "a"} and second.line == 5
    assert [choix.title for choix in second.children["choix"]] == ["Oui"]


def test_yaml_anchors_and_aliases_are_refused():
    text = "# Action\n```yaml\nidentifiant: 1\nbase: &base [x, x]\nautre: *base\n```\n"
    parsed = parse_text("referentiels/cae/1.md", text)
    assert [str(error) for error in parsed.errors] == [
        "referentiels/cae/1.md:4: Les ancres et alias YAML (&nom, *nom) ne sont pas autorisés"
    ]
    assert "autre" not in parsed.nodes[0].fields


def test_yaml_values_may_hold_ampersands_and_stars():
    text = "# Action\n```yaml\nidentifiant: 1\nnom: \"A & B * C\"\n```\n"
    parsed = parse_text("referentiels/cae/1.md", text)
    assert parsed.errors == [] and parsed.nodes[0].fields["nom"] == "A & B * C"


def test_sections_too_deep_to_render_are_errors_shown_as_text():
    text = "# Action\n```yaml\nidentifiant: 1\n```\n## Description\n" + ">" * 300 + " a\n"
    parsed = parse_text("referentiels/cae/1.md", text)
    assert [error.line for error in parsed.errors] == [5]
    assert "Section « Description » : Le texte imbrique trop" in parsed.errors[0].message
    assert parsed.nodes[0].sections["description"].html.startswith("<p>&gt;&gt;")
