"""Build one référentiel (a folder of action files) from parsed files: fields, tree, points.

Pure: standard library and app.content_loader.* only. Collects every problem as ContentError.

Ids are `<referentiel>_<identifiant>`, the root's id is the référentiel name (spec §3.3).
Top-level nodes of the files are attached to the node whose identifiant is theirs minus the
last part (by parts, so `1.1` is never taken for an ancestor of `1.10.2`).
"""
from dataclasses import dataclass, field

from app.content_loader.checks import Checker
from app.content_loader.model import ActionDef, ContentError, ReferentielDef
from app.content_loader.parse import Node, ParsedFile
from app.content_loader.points import infer_points

# Level of the "action" in each référentiel (scoring works at this depth); other référentiels
# may set it with `niveau_action` in the root's yaml, default 2.
ACTION_LEVELS = {"cae": 3, "eci": 2}
DEFAULT_ACTION_LEVEL = 2
CATEGORIES = ("bases", "mise en œuvre", "effets")
THEMATIQUE_KEY = "climat_pratic_id"  # the Climat Pratic thématique of an action (validate.py checks it)
# Snake-cased section title -> canonical section name (ActionDef.sections keys).
SECTION_FIELDS = {
    "description": "description",
    "contexte": "contexte",
    "exemples": "exemples",
    "ressources": "ressources",
    "critere": "critere",
    "preuve": "preuve",
    "reduction_de_potentiel": "reduction_potentiel",
    "perimetre_de_levaluation": "perimetre_evaluation",
}


@dataclass
class _Item:
    node: Node
    path: str
    identifiant: str
    thematique: str | None
    children: list["_Item"] = field(default_factory=list)

    @property
    def parts(self) -> list[str]:
        return self.identifiant.split(".") if self.identifiant else []


def build_referentiel(folder: str, files: list[ParsedFile], errors: list[ContentError]) -> ReferentielDef | None:
    name = folder.rsplit("/", 1)[-1]
    pooled: list[_Item] = []
    every: list[_Item] = []
    for parsed in files:
        check = Checker(parsed.path, errors)
        for node in parsed.nodes:
            item = _item(node, None, check, every)
            if item:
                pooled.append(item)

    roots = [item for item in every if item.identifiant == ""]
    if len(roots) != 1:
        where = (roots[1].path, roots[1].node.line) if roots else (folder, 1)
        errors.append(ContentError(*where, (
            "Le dossier de markdowns doit contenir une unique action racine "
            f"(dont l'identifiant est ''). {len(roots)} trouvé(s)."
        )))
        return None
    root = roots[0]
    _check_root(root, name, errors)

    by_identifiant: dict[str, _Item] = {}
    for item in every:
        if item.identifiant in by_identifiant:
            errors.append(ContentError(item.path, item.node.line_of("identifiant"), (
                f"Tous les identifiants devraient être uniques. Doublons: {item.identifiant}"
            )))
        else:
            by_identifiant[item.identifiant] = item
    for item in pooled:
        if item is not root:
            _attach(item, by_identifiant, errors)

    return _definitions(name, root, errors)


def _item(node: Node, parent: _Item | None, check: Checker, every: list[_Item]) -> _Item | None:
    identifiant = check.text(node, "identifiant")
    check.title(node)
    check.number(node, "points")
    check.number(node, "pourcentage")
    check.choice(node, "categorie", CATEGORIES)
    thematique = check.text(node, THEMATIQUE_KEY) or None
    if identifiant is None:
        if node.fields.get("identifiant") is None and not node.yaml_failed:
            check.error(node.line, f"L'action « {node.title or ''} » n'a pas d'identifiant (clé `identifiant` du yaml).")
        return None
    item = _Item(node, check.path, identifiant, thematique)
    if parent is not None and item.parts[:-1] != parent.parts:
        check.error(node.line_of("identifiant"), (
            f"L'action {item.identifiant or 'racine'} est rangée sous l'action {parent.identifiant or 'racine'} : "
            f"son identifiant devrait être de la forme {'.'.join(parent.parts + ['x'])}."
        ))
    every.append(item)
    for child in node.children.get("actions", []):
        child_item = _item(child, item, check, every)
        if child_item:
            item.children.append(child_item)
    return item


def _check_root(root: _Item, name: str, errors: list[ContentError]) -> None:
    value = root.node.fields.get("referentiel")
    if value is None:
        errors.append(ContentError(root.path, root.node.line, (
            "L'action racine (dont l'identifiant est '') doit avoir un `referentiel` renseigné."
        )))
    elif value != name:
        errors.append(ContentError(root.path, root.node.line_of("referentiel"), (
            f"Référentiel inconnu « {value} » : la racine du dossier « {name} » doit déclarer "
            f"`referentiel: {name}`."
        )))
    level = root.node.fields.get("niveau_action")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool) or level < 1):
        errors.append(ContentError(root.path, root.node.line_of("niveau_action"), (
            "`niveau_action` doit être un entier positif."
        )))


def _attach(item: _Item, by_identifiant: dict[str, _Item], errors: list[ContentError]) -> None:
    parts = item.parts
    parent = by_identifiant.get(".".join(parts[:-1]))
    if parent is not None:
        parent.children.append(item)
        return
    line = item.node.line_of("identifiant")
    for size in range(len(parts) - 2, 0, -1):
        ancestor = ".".join(parts[:size])
        if ancestor in by_identifiant:
            errors.append(ContentError(item.path, line, (
                f"Il manque un niveau entre l'action {ancestor} et son enfant {item.identifiant}"
            )))
            return
    errors.append(ContentError(item.path, line, f"L'action {item.identifiant} est orpheline !"))


def _definitions(name: str, root: _Item, errors: list[ContentError]) -> ReferentielDef:
    actions: dict[str, ActionDef] = {}
    display_children: dict[str, list[str]] = {}
    seen: set[int] = set()

    def visit(item: _Item, parent_id: str | None, position: int) -> None:
        seen.add(id(item))
        action = _action(name, item, parent_id, position)
        actions[action.id] = action
        kids = sorted((kid for kid in item.children if id(kid) not in seen), key=lambda kid: _natural(kid.parts))
        display_children[action.id] = [_action_id(name, kid.identifiant) for kid in kids]
        action.children = sorted(display_children[action.id])
        for index, kid in enumerate(kids):
            visit(kid, action.id, index)

    visit(root, None, 0)
    fields = root.node.fields
    level = fields.get("niveau_action")
    if not isinstance(level, int) or isinstance(level, bool) or level < 1:
        level = ACTION_LEVELS.get(name, DEFAULT_ACTION_LEVEL)
    points, problems = infer_points(
        name,
        display_children,
        {key: action.md_points for key, action in actions.items()},
        {key: action.md_pourcentage for key, action in actions.items()},
    )
    for key, value in points.items():
        actions[key].points = value
    for key, message in problems:
        errors.append(ContentError(actions[key].source_path, actions[key].source_line, message))
    return ReferentielDef(id=name, nom=root.node.title or name, action_level=level, actions=actions,
                          source_path=root.path)


def _action(name: str, item: _Item, parent_id: str | None, position: int) -> ActionDef:
    node = item.node
    return ActionDef(
        id=_action_id(name, item.identifiant),
        referentiel=name,
        identifiant=item.identifiant,
        nom=node.title or "",
        parent_id=parent_id,
        depth=len(item.parts),
        points=None,
        md_points=_float(node.fields.get("points")),
        md_pourcentage=_float(node.fields.get("pourcentage")),
        categorie=node.fields.get("categorie") if node.fields.get("categorie") in CATEGORIES else None,
        thematique_id=item.thematique,
        thematique_line=node.line_of(THEMATIQUE_KEY),
        sections={
            SECTION_FIELDS[key]: section.html for key, section in node.sections.items() if key in SECTION_FIELDS
        },
        children=[],
        position=position,
        source_path=item.path,
        source_line=node.line,
    )


def _action_id(name: str, identifiant: str) -> str:
    return f"{name}_{identifiant}" if identifiant else name


def _natural(parts: list[str]) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in parts]


def _float(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
