"""Turn parsed files into checked Content, collecting every problem (never raising).

Pure: standard library, app.content_loader.* and app.scoring (the rule formula checker).
Order: référentiels first (their action ids are what the other kinds point to), then
thématiques, questions, rules (checked against the questions), indicateurs, preuves.
Formats of questions, rules, indicateurs and preuves are strict: unknown yaml keys and
sections are errors. Messages are the spec's French texts where it gives one.
"""
import re
from collections import defaultdict

from app.content_loader.checks import Checker
from app.content_loader.layout import folder_name
from app.content_loader.model import (
    ChoixDef,
    Content,
    ContentError,
    IndicateurDef,
    PreuveDef,
    QuestionDef,
    RegleDef,
    RegleSetDef,
)
from app.content_loader.parse import Node, ParsedFile
from app.content_loader.referentiel import build_referentiel
from app.scoring.checker import QuestionSpec, check_rule

QUESTION_TYPES = ("binaire", "proportion", "choix")
TYPES_CONCERNES = ("EPCI", "commune")
RULE_KINDS = {"Désactivation": "desactivation", "Réduction de potentiel": "reduction", "Score réalisé": "score"}
PREUVE_ID_MAX_LENGTH = 50
ID_MAX_LENGTH = 48  # the id columns are 64 long, action ids add the référentiel name
REFERENTIEL_ID_MAX_LENGTH = 15


def validate(files: list[ParsedFile]) -> tuple[Content, list[ContentError]]:
    errors: list[ContentError] = [error for parsed in files for error in parsed.errors]
    content = Content()
    by_kind: dict[str, list[ParsedFile]] = defaultdict(list)
    for parsed in files:
        by_kind[parsed.kind].append(parsed)

    folders: dict[str, list[ParsedFile]] = defaultdict(list)
    for parsed in by_kind["referentiel"]:
        folders[parsed.path.rsplit("/", 1)[0]].append(parsed)
    for folder, folder_files in sorted(folders.items()):
        referentiel = build_referentiel(folder, folder_files, errors)
        if referentiel:
            content.referentiels[referentiel.id] = referentiel
    action_ids = {key for referentiel in content.referentiels.values() for key in referentiel.actions}

    for parsed in by_kind["thematiques"]:
        _thematiques(parsed, content, errors)
    _check_action_thematiques(content, errors)
    for parsed in by_kind["questions"]:
        _questions(parsed, content, action_ids, errors)
    _check_choix(content, errors)
    for parsed in by_kind["regles"]:
        _regles(parsed, content, errors)
    _check_regles(content, action_ids, errors)
    for parsed in by_kind["indicateurs"]:
        _indicateurs(parsed, content, action_ids, errors)
    _check_indicateur_valeurs(content, errors)
    for parsed in by_kind["preuves"]:
        _preuves(parsed, content, action_ids, errors)
    _check_id_lengths(content, errors)
    return content, sorted(errors)


def _check_id_lengths(content: Content, errors: list[ContentError]) -> None:
    """Ids must fit their database columns (the référentiel name is part of every action id)."""
    located = [(r.id, REFERENTIEL_ID_MAX_LENGTH, r.source_path, 1) for r in content.referentiels.values()]
    located += [(a.identifiant, ID_MAX_LENGTH, a.source_path, a.source_line) for r in content.referentiels.values()
                for a in r.actions.values()]
    for question in content.questions.values():
        located += [(key, ID_MAX_LENGTH, question.source_path, question.source_line)
                    for key in [question.id, *(choix.id for choix in question.choix)]]
    for i in content.indicateurs.values():
        located += [(i.id, ID_MAX_LENGTH, i.source_path, i.source_line),
                    (i.identifiant, ID_MAX_LENGTH, i.source_path, i.source_line),
                    (i.groupe, REFERENTIEL_ID_MAX_LENGTH, i.source_path, i.source_line)]
    for key, limit, path, line in located:
        if len(key) > limit:
            errors.append(ContentError(path, line, f"L'identifiant « {key} » dépasse {limit} caractères."))


def _each_titled(parsed: ParsedFile, errors: list[ContentError]):
    check = Checker(parsed.path, errors)
    for node in parsed.nodes:
        if check.title(node):
            yield check, node


# (unknown actions, duplicate id) messages per kind; the spec's texts where it gives them.
_MESSAGES = {
    "question": ("La question {id} fait référence à des actions inconnues",
                 "Les ids des questions suivants ne sont pas uniques"),
    "indicateur": ("L'indicateur {id} référence des actions qui n'existent pas",
                   "Les ids des indicateurs suivants ne sont pas uniques"),
    "preuve": ("La preuve {id} référence des actions inconnues", "Les ids des preuves suivantes ne sont pas uniques"),
}


def _register(check: Checker, node: Node, item, registry: dict, action_ids: set[str], kind: str) -> None:
    """Check that the item's actions exist and its id is new, then add it to `registry`."""
    unknown_message, duplicate_message = _MESSAGES[kind]
    unknown = [key for key in item.action_ids if key not in action_ids]
    if unknown:
        check.error(node.line_of("actions"), f"{unknown_message.format(id=item.id)}: {', '.join(unknown)}")
    if not item.id:
        return
    if item.id in registry:
        check.error(node.line_of("id"), f"{duplicate_message} : {item.id}")
    else:
        registry[item.id] = item


def _description(node: Node) -> str:
    return node.sections["description"].html if "description" in node.sections else ""


# --- thématiques ------------------------------------------------------------------------------


def _thematiques(parsed: ParsedFile, content: Content, errors: list[ContentError]) -> None:
    check = Checker(parsed.path, errors)
    found = False
    for node in parsed.nodes:
        value = node.fields.get("thematiques")
        if value is None:
            continue
        found = True
        if not isinstance(value, dict) or not all(isinstance(name, str) for name in value.values()):
            check.error(node.line_of("thematiques"), "`thematiques` doit associer des identifiants à des noms.")
            continue
        content.thematiques.update({str(key): name for key, name in value.items()})
    if not found:
        check.error(1, "Aucun bloc yaml `thematiques:` dans ce fichier de thématiques.")


def _check_action_thematiques(content: Content, errors: list[ContentError]) -> None:
    known = ", ".join(sorted(content.thematiques)) or "aucune (pas de fichier de thématiques)"
    for referentiel in content.referentiels.values():
        for action in referentiel.actions.values():
            if action.thematique_id is not None and action.thematique_id not in content.thematiques:
                errors.append(ContentError(action.source_path, action.thematique_line, (
                    f"Thématique inconnue « {action.thematique_id} » pour l'action {action.id} "
                    f"(thématiques possibles : {known})."
                )))


# --- questions --------------------------------------------------------------------------------


def _questions(parsed: ParsedFile, content: Content, action_ids: set[str], errors: list[ContentError]) -> None:
    for check, node in _each_titled(parsed, errors):
        check.known_keys(node, {"id", "type", "thematique_id", "actions", "types_concernes", "ordonnancement"},
                         {"description"})
        if set(node.children) - {"choix"}:
            check.error(node.line, "Une question ne peut contenir que des « ## Choix ».")
        question_id = check.text(node, "id", required=True)
        question = QuestionDef(
            id=question_id or "",
            type=check.choice(node, "type", QUESTION_TYPES, required=True) or "",
            formulation=node.title,
            description=_description(node),
            thematique_id=check.text(node, "thematique_id", required=True) or "",
            action_ids=sorted(check.text_list(node, "actions")),
            types_concernes=check.text_list(node, "types_concernes", TYPES_CONCERNES),
            ordonnancement=check.integer(node, "ordonnancement"),
            choix=[choix for choix in (_choix(check, child) for child in node.children.get("choix", [])) if choix],
            source_path=parsed.path,
            source_line=node.line,
        )
        _register(check, node, question, content.questions, action_ids, "question")


def _choix(check: Checker, node: Node) -> ChoixDef | None:
    check.known_keys(node, {"id", "ordonnancement"})
    choix_id = check.text(node, "id", required=True)
    if not check.title(node) or not choix_id:
        return None
    return ChoixDef(id=choix_id, formulation=node.title, ordonnancement=check.integer(node, "ordonnancement"))


def _check_choix(content: Content, errors: list[ContentError]) -> None:
    choix_seen: set[str] = set()
    for question in content.questions.values():
        check = Checker(question.source_path, errors)
        line = question.source_line
        if question.type == "choix" and not question.choix:
            check.error(line, f"Les questions suivantes sont de types 'choix' mais ne spécifient aucun choix: {question.id}")
        if question.type != "choix" and question.choix:
            check.error(line, f"La question {question.id} est de type '{question.type}' : elle ne peut pas avoir de choix.")
        for choix in question.choix:
            if choix.id in choix_seen:
                check.error(line, f"Les ids des choix suivants ne sont pas uniques : {choix.id}")
            choix_seen.add(choix.id)


# --- personnalisation rules -------------------------------------------------------------------


def _regles(parsed: ParsedFile, content: Content, errors: list[ContentError]) -> None:
    for check, node in _each_titled(parsed, errors):
        check.known_keys(node, {"action_id"})
        if node.formule is not None:
            check.error(node.formule_line, "Bloc formule hors d'une règle : écrivez « ## Règles » puis « ### Désactivation », "
                                           "« ### Réduction de potentiel » ou « ### Score réalisé » avant lui.")
        action_id = check.text(node, "action_id", required=True)
        regles = [regle for regle in (_regle(check, child) for child in node.children.get("regles", [])) if regle]
        kinds: set[str] = set()
        for regle in regles:
            if regle.kind in kinds:
                check.error(regle.source_line, (
                    "Duplicats dans les types (désactivation, réduction, score) pour les règles des actions "
                    f"suivantes {action_id}. Il ne faut qu'une seule formule par type et par action."
                ))
            kinds.add(regle.kind)
        if not action_id:
            continue
        if action_id in content.regles:
            check.error(node.line_of("action_id"), f"Duplicats dans les règles pour les actions {action_id} .")
            continue
        content.regles[action_id] = RegleSetDef(
            action_id=action_id, titre=node.title, description=node.after_code_html, regles=regles,
            source_path=parsed.path, source_line=node.line,
        )


def _regle(check: Checker, node: Node) -> RegleDef | None:
    check.known_keys(node, set())
    if not check.title(node):
        return None
    kind = RULE_KINDS.get(node.title.strip())
    if kind is None:
        check.error(node.line, f"Type de règle inconnu « {node.title} » : il doit valoir {', '.join(RULE_KINDS)}.")
        return None
    if node.formule is None:
        check.error(node.line, f"La règle « {node.title} » n'a pas de bloc ```formule.")
        return None
    return RegleDef(kind=kind, formule=node.formule, description=node.after_code_html,
                    source_path=check.path, source_line=node.formule_line)


def _check_regles(content: Content, action_ids: set[str], errors: list[ContentError]) -> None:
    questions = {
        question.id: QuestionSpec(question.id, question.type, tuple(choix.id for choix in question.choix))
        for question in content.questions.values()
    }
    for regle_set in content.regles.values():
        if regle_set.action_id not in action_ids:
            errors.append(ContentError(regle_set.source_path, regle_set.source_line, (
                f"Les règles suivantes s'appliquent à des actions inconnues: {regle_set.action_id}"
            )))
        for regle in regle_set.regles:
            for message in check_rule(regle.formule, regle.kind, questions):
                line = regle.source_line + getattr(message, "line", 1)
                errors.append(ContentError(regle.source_path, line, re.sub(r"\s*\n\s*", " ", str(message))))


# --- indicateurs ------------------------------------------------------------------------------

INDICATEUR_KEYS = {"id", "identifiant", "unite", "valeur", "obligation_cae", "obligation_eci", "actions",
                   "programmes", "climat_pratic_ids"}


def _indicateurs(parsed: ParsedFile, content: Content, action_ids: set[str], errors: list[ContentError]) -> None:
    for check, node in _each_titled(parsed, errors):
        check.known_keys(node, INDICATEUR_KEYS, {"description", "source"})
        indicateur_id = check.text(node, "id", required=True)
        if "description" not in node.sections:
            check.error(node.line, f"L'indicateur {indicateur_id} n'a pas de section « ## Description ».")
        check.boolean(node, "obligation_cae")
        check.boolean(node, "obligation_eci")
        check.text_list(node, "programmes")
        check.text_list(node, "climat_pratic_ids")
        indicateur = IndicateurDef(
            id=indicateur_id or "",
            groupe=folder_name(parsed.path),
            identifiant=check.text(node, "identifiant", required=True) or "",
            nom=node.title,
            unite=check.text(node, "unite", required=True) or "",
            description=_description(node),
            valeur=check.text(node, "valeur"),
            action_ids=sorted(check.text_list(node, "actions")),
            source_path=parsed.path,
            source_line=node.line,
        )
        _register(check, node, indicateur, content.indicateurs, action_ids, "indicateur")


def _check_indicateur_valeurs(content: Content, errors: list[ContentError]) -> None:
    for indicateur in content.indicateurs.values():
        if indicateur.valeur is not None and indicateur.valeur not in content.indicateurs:
            errors.append(ContentError(indicateur.source_path, indicateur.source_line, (
                f"L'indicateur {indicateur.id} référence dans `valeur` un id d'indicateur qui n'existe pas : "
                f"{indicateur.valeur}"
            )))


# --- preuves ----------------------------------------------------------------------------------


def _preuves(parsed: ParsedFile, content: Content, action_ids: set[str], errors: list[ContentError]) -> None:
    for check, node in _each_titled(parsed, errors):
        check.known_keys(node, {"id", "actions"}, {"description"})
        preuve_id = check.text(node, "id", required=True)
        if preuve_id and len(preuve_id) > PREUVE_ID_MAX_LENGTH:
            check.error(node.line_of("id"), f"Les ids des preuves suivantes sont trop longs : {preuve_id}")
        preuve = PreuveDef(
            id=preuve_id or "",
            nom=node.title.strip(),
            description=_description(node),
            action_ids=check.text_list(node, "actions"),
            source_path=parsed.path,
            source_line=node.line,
        )
        _register(check, node, preuve, content.preuves, action_ids, "preuve")
