"""Load-time rule checks (personnalisation.md §4), plus syntax/type checks of score rules."""
import pytest

from app.scoring import QuestionSpec, check_rule

QUESTIONS = {
    "q_bin": QuestionSpec("q_bin", "binaire"),
    "q_choix": QuestionSpec("q_choix", "choix", ("q_choix_a", "q_choix_b")),
    "q_prop": QuestionSpec("q_prop", "proportion"),
}


@pytest.mark.parametrize("formule, kind", [
    ("si identite(type, commune) alors VRAI\nsinon si identite(type, EPCI) et identite(population, moins_de_20000) alors VRAI\n",
     "desactivation"),
    ("reponse(q_bin, NON)", "desactivation"),
    ("reponse(q_choix, q_choix_a) et identite(localisation, Metropole)", "desactivation"),
    ("max(reponse(q_prop), 0.5)", "reduction"),
    ("si reponse(q_bin, OUI) alors 2/12 sinon si reponse (q_choix, q_choix_b) alors 6/12\n", "reduction"),
    ("si identite(population, plus_de_100000) alors 0.5 sinon VRAI", "reduction"),  # sinon not typed
    ("reponse(q_choix, q_choix_a) et 0.5", "reduction"),  # `et` has the type of its right operand
    ("min(score(cae_1.2.3), score(cae_3.3.5))\n", "score"),
    ("score(unknown_action_is_not_checked)", "score"),
])
def test_valid_rules(formule, kind):
    assert check_rule(formule, kind, QUESTIONS) == []


@pytest.mark.parametrize("formule, kind, reason", [
    ("reponse(q_absent, OUI)", "desactivation", "Id de question inconnue: q_absent."),
    ("reponse(q_prop, OUI)", "desactivation", "La question q_prop est de type proportion, donc la fonction réponse n'attend qu'un argument."),
    ("reponse(q_bin) + 1", "reduction", "La question q_bin est de type binaire, donc la fonction réponse attend deux arguments."),
    ("reponse(q_choix, q_choix_z)", "desactivation", "L'id de choix q_choix_z est inconnu pour la question q_choix. Choix possibles : q_choix_a, q_choix_b."),
    ("reponse(q_bin, oui)", "desactivation", "L'id de choix oui est inconnu pour la question q_bin. Choix possibles : OUI, NON."),
    ("identite(taille, grande)", "desactivation", "taille n'est pas une propriété d'identité valide"),
    ("identite(type, metropole)", "desactivation", "metropole n'est pas une valeur valide pour 'type'."),
    ("max(0.5, reponse(q_bin, OUI))", "reduction", "max ne prend que des arguments de type nombre."),
    ("1 + VRAI", "reduction", "+ ne prend que des arguments de type nombre."),
    ("0.5", "desactivation", "n'a pas le bon type de sortie : nombre au lieu de booléen."),
    ("si VRAI alors VRAI sinon 0.5", "reduction", "n'a pas la bonne sortie : booléen au lieu de nombre."),
    ("VRAI", "score", "n'a pas la bonne sortie : booléen au lieu de nombre."),
    ("2 *", "reduction", "expression manquante."),
    ("(1+2)*3", "reduction", "erreur de syntaxe"),
    ("min(score(a) score(b))", "score", "erreur de syntaxe"),
    ("VRAI", "bonus", "Type de règle inconnu : bonus."),
])
def test_invalid_rules(formule, kind, reason):
    messages = check_rule(formule, kind, QUESTIONS)
    assert len(messages) == 1 and reason in messages[0]


def test_message_names_the_rule_and_the_line_of_the_problem():
    formule = "si reponse(q_bin, OUI) alors 0.5\nsinon si reponse(q_absent, OUI) alors 0.2\n"
    [message] = check_rule(formule, "reduction", QUESTIONS)
    assert message.startswith("Erreur dans la règle formulée si reponse(q_bin, OUI)")
    assert message.line == 2


def test_syntax_error_line():
    [message] = check_rule("si VRAI\nalors VRAI\nsinon )\n", "desactivation", QUESTIONS)
    assert message.line == 3 and "ligne 3" in message
