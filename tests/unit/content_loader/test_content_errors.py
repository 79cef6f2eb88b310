"""One tiny bad file per error kind: each gives its `path:line: message`, nothing raises."""
import pytest

from app.content_loader import check_dir

ROOT = 'identifiant: ""\npoints: 100\nreferentiel: eci\n'
QUESTION = "# Question ?\n```yaml\nid: q_bad\ntype: binaire\nthematique_id: dechets\n{extra}```\n"
REGLES = "# Règles\n```yaml\naction_id: {action}\n```\n## Règles\n{rules}"
DESACTIVATION = "### Désactivation\n```formule\nreponse(competence_dechets, NON)\n```\n"
INDICATEUR = "# Indicateur\n```yaml\nid: {id}\nidentifiant: 9\nunite: t\n{extra}```\n## Description\nTexte.\n"
PREUVE = "# Preuve\n```yaml\nid: {id}\n{extra}```\n"


def action(identifiant: str, extra: str = "", title: str = "Action") -> str:
    return f"# {title}\n```yaml\nidentifiant: {identifiant}\n{extra}```\n"


CASES = [
    ("bad yaml", {"referentiels/eci/2.md": "# Axe\n```yaml\nidentifiant: 2\npoints: [40\n```\n"},
     "referentiels/eci/2.md:5: Erreur dans le formatage du code yaml : did not find expected ',' or ']'"),
    ("yaml not a mapping", {"preuves/x.md": "# Preuve\n```yaml\n- a\n- b\n```\n"},
     "preuves/x.md:2: Le bloc yaml doit contenir des lignes « clé: valeur »"),
    ("missing title", {"preuves/x.md": "```yaml\nid: sans_titre\n```\n"},
     "preuves/x.md:1: Titre manquant : chaque élément commence par un titre markdown (« # … »)."),
    ("missing identifiant", {"referentiels/eci/3.md": "# Axe sans identifiant\n```yaml\npoints: 1\n```\n"},
     "referentiels/eci/3.md:1: L'action « Axe sans identifiant » n'a pas d'identifiant (clé `identifiant` du yaml)."),
    ("missing question id", {"questions/x.md": "# Question ?\n```yaml\ntype: binaire\nthematique_id: x\n```\n"},
     "questions/x.md:1: Clé obligatoire manquante : `id`."),
    ("duplicate action id", {"referentiels/eci/2bis.md": action("2", "points: 0\n")},
     "referentiels/eci/2bis.md:3: Tous les identifiants devraient être uniques. Doublons: 2"),
    ("duplicate question id", {"questions/x.md": QUESTION.format(extra="").replace("q_bad", "collecte")},
     "questions/x.md:3: Les ids des questions suivants ne sont pas uniques : collecte"),
    ("duplicate preuve id", {"preuves/x.md": PREUVE.format(id="rapport_annuel", extra="")},
     "preuves/x.md:3: Les ids des preuves suivantes ne sont pas uniques : rapport_annuel"),
    ("orphan", {"referentiels/eci/3.1.md": action("3.1", "points: 0\n")},
     "referentiels/eci/3.1.md:3: L'action 3.1 est orpheline !"),
    ("missing level", {"referentiels/eci/2.5.1.md": action("2.5.1", "points: 0\n")},
     "referentiels/eci/2.5.1.md:3: Il manque un niveau entre l'action 2 et son enfant 2.5.1"),
    ("nested identifiant out of place", {"referentiels/eci/2.md": action("2", "points: 40\n")
                                         + "## Actions\n### Mal rangée\n```yaml\nidentifiant: 3.1\npoints: 40\n```\n"},
     "referentiels/eci/2.md:9: L'action 3.1 est rangée sous l'action 2 : son identifiant devrait être de la forme 2.x."),
    ("missing root", {"referentiels/eci/eci.md": None},
     "referentiels/eci:1: Le dossier de markdowns doit contenir une unique action racine (dont l'identifiant est ''). 0 trouvé(s)."),
    ("several roots", {"referentiels/eci/autre.md": "# Autre racine\n```yaml\n" + ROOT + "```\n"},
     "referentiels/eci/eci.md:1: Le dossier de markdowns doit contenir une unique action racine (dont l'identifiant est ''). 2 trouvé(s)."),
    ("root without referentiel", {"referentiels/eci/eci.md": "# Racine\n```yaml\nidentifiant: \"\"\npoints: 100\n```\n"},
     "referentiels/eci/eci.md:1: L'action racine (dont l'identifiant est '') doit avoir un `referentiel` renseigné."),
    ("unknown referentiel", {"referentiels/eci/eci.md": "# Racine\n```yaml\n" + ROOT.replace("eci", "autre") + "```\n"},
     "referentiels/eci/eci.md:5: Référentiel inconnu « autre » : la racine du dossier « eci » doit déclarer `referentiel: eci`."),
    ("bad categorie", {"referentiels/eci/2.md": action("2", "points: 40\ncategorie: fondations\n")},
     "referentiels/eci/2.md:5: `categorie` doit valoir « bases », « mise en œuvre » ou « effets » (trouvé : 'fondations')."),
    ("points not a number", {"referentiels/eci/2.md": action("2", "points: beaucoup\n")},
     "referentiels/eci/2.md:4: `points` doit être un nombre (trouvé : 'beaucoup')."),
    ("pourcentages", {"referentiels/eci/1.2.md": action("1.2", "points: 30\n")
                      + "## Actions\n### A\n```yaml\nidentifiant: 1.2.1\npourcentage: 10\n```\n"
                      + "### B\n```yaml\nidentifiant: 1.2.2\npourcentage: 80\n```\n"},
     "referentiels/eci/1.2.md:7: Les valeurs des actions eci_1.2.1, eci_1.2.2 sont renseignées en pourcentage, "
     "mais leur somme fait 90.0 au lieu de 100."),
    ("points", {"referentiels/eci/2.md": action("2", "points: 40\n")
                + "## Actions\n### A\n```yaml\nidentifiant: 2.1\npoints: 10\n```\n"},
     "referentiels/eci/2.md:1: Les valeurs des actions de l'action eci_2 sont renseignées en points, "
     "mais leur somme fait 10.0 au lieu de 40.0."),
    ("points not inferable", {"referentiels/eci/2.md": action("2", "points: .nan\n")},
     "referentiels/eci/2.md:1: Les points de l'action eci_2 n'ont pas pu être inférés."),
    ("question unknown action", {"questions/x.md": QUESTION.format(extra="actions: [eci_9.9]\n")},
     "questions/x.md:6: La question q_bad fait référence à des actions inconnues: eci_9.9"),
    ("choix without choices", {"questions/x.md": QUESTION.format(extra="").replace("binaire", "choix")},
     "questions/x.md:1: Les questions suivantes sont de types 'choix' mais ne spécifient aucun choix: q_bad"),
    ("question unknown key", {"questions/x.md": QUESTION.format(extra="couleur: bleu\n")},
     "questions/x.md:6: Clé inconnue « couleur » (clés possibles : actions, id, ordonnancement, thematique_id, "
     "type, types_concernes)."),
    ("question unknown section", {"questions/x.md": QUESTION.format(extra="") + "## Notes\nTexte.\n"},
     "questions/x.md:7: Section inconnue « Notes » (sections possibles : description)."),
    ("question bad type", {"questions/x.md": QUESTION.format(extra="").replace("binaire", "oui_non")},
     "questions/x.md:4: `type` doit valoir « binaire », « proportion » ou « choix » (trouvé : 'oui_non')."),
    ("rule unknown action", {"personnalisations/x.md": REGLES.format(action="eci_9", rules=DESACTIVATION)},
     "personnalisations/x.md:1: Les règles suivantes s'appliquent à des actions inconnues: eci_9"),
    ("rule unknown key", {"personnalisations/x.md": REGLES.format(action="eci_1.1\nforce: 2", rules=DESACTIVATION)},
     "personnalisations/x.md:4: Clé inconnue « force » (clés possibles : action_id)."),
    ("unknown rule title", {"personnalisations/x.md": REGLES.format(action="eci_1.1", rules=DESACTIVATION.replace("Désactivation", "Bonus"))},
     "personnalisations/x.md:6: Type de règle inconnu « Bonus » : il doit valoir Désactivation, Réduction de potentiel, Score réalisé."),
    ("rule without formula", {"personnalisations/x.md": REGLES.format(action="eci_1.1", rules="### Désactivation\nTexte.\n")},
     "personnalisations/x.md:6: La règle « Désactivation » n'a pas de bloc ```formule."),
    ("duplicate rule kinds", {"personnalisations/x.md": REGLES.format(action="eci_1.1", rules=DESACTIVATION * 2)},
     "personnalisations/x.md:11: Duplicats dans les types (désactivation, réduction, score) pour les règles des "
     "actions suivantes eci_1.1. Il ne faut qu'une seule formule par type et par action."),
    ("duplicate rule set", {"personnalisations/x.md": REGLES.format(action="eci_2.1", rules=DESACTIVATION)},
     "personnalisations/x.md:3: Duplicats dans les règles pour les actions eci_2.1 ."),
    ("rule formula", {"personnalisations/x.md": REGLES.format(action="eci_1.1", rules=DESACTIVATION.replace("competence_dechets", "inconnue"))},
     "personnalisations/x.md:8: "),
    ("indicateur unknown key", {"indicateurs/eci/x.md": INDICATEUR.format(id="eci_9", extra="couleur: bleu\n")},
     "indicateurs/eci/x.md:6: Clé inconnue « couleur » (clés possibles : actions, climat_pratic_ids, id, "
     "identifiant, obligation_cae, obligation_eci, programmes, unite, valeur)."),
    ("indicateur unknown action", {"indicateurs/eci/x.md": INDICATEUR.format(id="eci_9", extra="actions: [eci_7]\n")},
     "indicateurs/eci/x.md:6: L'indicateur eci_9 référence des actions qui n'existent pas: eci_7"),
    ("indicateur without description", {"indicateurs/eci/x.md": INDICATEUR.format(id="eci_9", extra="").split("## ")[0]},
     "indicateurs/eci/x.md:1: L'indicateur eci_9 n'a pas de section « ## Description »."),
    ("indicateur bad boolean", {"indicateurs/eci/x.md": INDICATEUR.format(id="eci_9", extra="obligation_cae: peut-être\n")},
     "indicateurs/eci/x.md:6: `obligation_cae` doit valoir true ou false (trouvé : 'peut-être')."),
    ("crte valeur", {"indicateurs/crte/x.md": INDICATEUR.format(id="crte_9", extra="valeur: cae_1.a\n")},
     "indicateurs/crte/x.md:1: L'indicateur crte_9 référence dans `valeur` un id d'indicateur qui n'existe pas : cae_1.a"),
    ("preuve unknown key", {"preuves/x.md": PREUVE.format(id="p_x", extra="fichier: a.pdf\n")},
     "preuves/x.md:4: Clé inconnue « fichier » (clés possibles : actions, id)."),
    ("preuve unknown action", {"preuves/x.md": PREUVE.format(id="p_x", extra="actions: [eci_8]\n")},
     "preuves/x.md:4: La preuve p_x référence des actions inconnues: eci_8"),
    ("preuve id too long", {"preuves/x.md": PREUVE.format(id="p" * 51, extra="")},
     f"preuves/x.md:3: Les ids des preuves suivantes sont trop longs : {'p' * 51}"),
    ("unknown thematique", {"referentiels/eci/2.md": action("2", "points: 40\nclimat_pratic_id: transport\n")},
     "referentiels/eci/2.md:5: Thématique inconnue « transport » pour l'action eci_2 (thématiques possibles : "
     "dechets, gouvernance)."),
    ("thematiques without block", {"referentiels/thematiques_test/thematiques.md": "# Rien\n"},
     "referentiels/thematiques_test/thematiques.md:1: Aucun bloc yaml `thematiques:` dans ce fichier de thématiques."),
]


def test_the_valid_set_has_no_error(content_dir):
    content, errors = check_dir(content_dir)
    assert errors == []
    assert content.counts() == {"référentiels": 1, "actions": 14, "questions": 3, "règles": 3,
                                "indicateurs": 2, "preuves": 2, "thématiques": 2}


@pytest.mark.parametrize("files, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_error_kind(edit, files, expected):
    _, errors = check_dir(edit(files))
    messages = [str(error) for error in errors]
    assert any(message.startswith(expected) for message in messages), messages


def test_every_error_is_collected(edit):
    broken = {path: text for case in CASES[:2] + CASES[20:23] for path, text in case[1].items()}
    _, errors = check_dir(edit(broken))
    assert len(errors) >= 4


def test_ids_must_fit_their_columns(edit):
    long_id = "q" * 49
    _, errors = check_dir(edit({"questions/x.md": QUESTION.format(extra="").replace("q_bad", long_id)}))
    assert f"questions/x.md:1: L'identifiant « {long_id} » dépasse 48 caractères." in [str(e) for e in errors]
