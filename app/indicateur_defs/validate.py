"""Checks across definitions, pure: duplicate ids, unknown parents, parent cycles, formula syntax,
unknown or self inputs, formula cycles, bounds, cible / seuil expressions (reference.py); unknown
action ids are warnings (the référentiels loaded may be another edition). `known_ids` are definitions already stored (a file may use them)."""
from app.indicateur_defs.formula import FormulaError, inputs, parse
from app.indicateur_defs.model import Definition, LoadError
from app.indicateur_defs.reference import problems


def validate(definitions: list[Definition], known_ids: set[str], action_ids: set[str]) -> list[LoadError]:
    errors: list[LoadError] = []
    by_id: dict[str, Definition] = {}
    for definition in definitions:
        if definition.id in by_id:
            first = by_id[definition.id]
            errors.append(_error(definition, f"identifiant en double : {definition.id} "
                                             f"(déjà défini en {first.source_path}:{first.source_line})"))
        else:
            by_id[definition.id] = definition
    ids = known_ids | set(by_id)
    parents_of: dict[str, list[str]] = {}
    inputs_of: dict[str, list[str]] = {}
    for definition in by_id.values():
        for parent in definition.parents:
            if parent not in ids:
                errors.append(_error(definition, f"{definition.id} : parent inconnu {parent}"))
        parents_of[definition.id] = [p for p in definition.parents if p in by_id]
        if definition.formule:
            try:
                used = [i.id for i in inputs(parse(definition.formule))]
            except FormulaError as error:
                errors.append(_error(definition, f"{definition.id} : {error}"))
                used = []
            for input_id in dict.fromkeys(used):
                if input_id == definition.id:
                    errors.append(_error(definition, f"{definition.id} : la formule utilise l'indicateur lui-même"))
                elif input_id not in ids:
                    errors.append(_error(definition, f"{definition.id} : la formule utilise un indicateur inconnu {input_id}"))
            inputs_of[definition.id] = [i for i in used if i in by_id and i != definition.id]
        if None not in (definition.borne_min, definition.borne_max) and definition.borne_min > definition.borne_max:
            errors.append(_error(definition, f"{definition.id} : borne minimale supérieure à la borne maximale"))
        for label, text in (("valeur cible", definition.expr_cible), ("valeur limite", definition.expr_seuil)):
            refused, warned = problems(text) if text else ([], [])
            errors += [_error(definition, f"{definition.id} : {label} : {message}") for message in refused]
            errors += [_error(definition, f"{definition.id} : {label} : {message}", warning=True) for message in warned]
        unknown_actions = [a for a in definition.action_ids if a not in action_ids]
        if unknown_actions:
            errors.append(_error(definition, f"{definition.id} : actions absentes des référentiels chargés : "
                                             f"{', '.join(unknown_actions)}", warning=True))
    errors += _cycles(by_id, parents_of, "cycle de parents")
    errors += _cycles(by_id, inputs_of, "cycle de formules")
    return errors


def _cycles(by_id: dict[str, Definition], edges: dict[str, list[str]], label: str) -> list[LoadError]:
    """One error per cycle, at the line of the indicateur where the walk closes it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    errors = []
    for start in sorted(edges):
        if state.get(start):
            continue
        path, stack = [start], [iter(edges.get(start, []))]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                cycle = path[path.index(following):] + [following]
                errors.append(_error(by_id[path[-1]], f"{label} : {' → '.join(cycle)}"))
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                stack.append(iter(edges.get(following, [])))
    return errors


def _error(definition: Definition, message: str, warning: bool = False) -> LoadError:
    return LoadError(definition.source_path, definition.source_line, message, warning)
