"""Whatever the text, checking never raises: bad input only gives ContentErrors."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content_loader import check_with_override

LINES = st.sampled_from([
    "# Titre", "## Actions", "### Sous-titre", "#### Actions", "##### Tâche", "## Description", "## Règles",
    "### Désactivation", "## Choix", "```yaml", "```formule", "```", "~~~", "<!--", "-->", "",
    "identifiant: 1", "identifiant: 1.1", "identifiant: \"\"", "identifiant: 2.1", "identifiant: [1",
    "points: 10", "points: .nan", "pourcentage: 50", "pourcentage: 0", "referentiel: eci", "id: x",
    "type: choix", "action_id: eci_1", "actions: [eci_1]", "valeur: y", "- liste", "texte libre",
    "reponse(x, OUI)", "si alors", "thematiques: 3",
])
PATHS = st.sampled_from([
    "referentiels/eci/eci.md", "referentiels/eci/9.md", "questions/x.md", "personnalisations/x.md",
    "indicateurs/crte/x.md", "preuves/x.md", "referentiels/thematiques_test/thematiques.md", "ailleurs.md",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS, lines=st.lists(LINES, max_size=30))
def test_checking_any_text_never_raises(content_dir, path, lines):
    content, errors, parsed = check_with_override(content_dir, path, "\n".join(lines))
    assert all(error.line >= 1 and error.path for error in errors)
