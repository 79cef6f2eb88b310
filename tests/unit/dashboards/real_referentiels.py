"""A real 2025 référentiel as the pages will hand it to app.dashboards: the tree's nodes, the
stored score records and each node's suivi. ECI: the statuts and personnalisation of the
benchmark collectivité (shared/benchmark); CAE: its personnalisation (désactivations) and, as that
collectivité filled in nothing there, statuts drawn with a fixed seed on a third of the tâches."""
import json
import random
from functools import cache
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from app.content_loader import check_dir
from app.dashboards import DashboardTree, Node, Score, Suivi, build_tree, scores_from_records
from app.scoring.avancement import AVANCEMENT_FRACTIONS
from app.scoring import SCORE_FIELDS, Consequence, Statut, prepare_tree, score_referentiel

FIRST_DAY = date(2025, 1, 6)


@dataclass(frozen=True)
class RealReferentiel:
    tree: DashboardTree
    records: dict[str, dict]  # as StoredScores reads them
    scores: dict[str, Score]
    suivis: dict[str, Suivi]


def _read(shared: Path, name: str):
    return json.loads((shared / "benchmark" / name).read_text(encoding="utf-8"))


def _drawn_statuts(actions, action_level: int) -> list[dict]:
    draw = random.Random(2025)
    return [
        {"action_id": a.id, "avancement": draw.choice(["fait", "fait", "programme", "pas_fait"]), "concerne": True}
        for a in actions.values()
        if a.depth == action_level + 2 and draw.random() < 1 / 3
    ]


@cache
def _content_2025(shared: Path):
    content, errors = check_dir(shared / "referentiels" / "2025" / "markdown")
    assert not errors, errors[:3]
    return content


def load_real(shared: Path, referentiel: str) -> RealReferentiel:
    definition = _content_2025(shared).referentiels[referentiel]
    actions = definition.actions  # root first, depth-first in display order
    level = definition.action_level
    if referentiel == "cae":
        statut_rows = _drawn_statuts(actions, level)
    else:
        statut_rows = [row for row in _read(shared, "action_statut.json") if row["action_id"] in actions]
    consequences = {action_id: Consequence(c.get("desactive"), c.get("potentiel_perso"), c.get("score_formule"))
                    for action_id, c in _read(shared, "consequences.json").items() if action_id in actions}
    table = score_referentiel(
        prepare_tree({a.id: a.children for a in actions.values()}, {a.id: a.points for a in actions.values()}, level),
        [Statut(row["action_id"], AVANCEMENT_FRACTIONS.get(row["avancement"]), bool(row["concerne"])) for row in statut_rows],
        consequences,
    )
    records = {action_id: dict(zip(SCORE_FIELDS, row)) for action_id, row in table.rows().items()}
    tree = build_tree(
        [Node(a.id, a.parent_id, a.depth, a.identifiant, a.nom, a.categorie) for a in actions.values()], level
    )
    suivis = {
        row["action_id"]: Suivi(statut=row["avancement"] if row["concerne"] else "non_concerne",
                                precision=index % 3 == 0, preuves=index % 4,
                                modified_on=FIRST_DAY + timedelta(days=index % 90))
        for index, row in enumerate(statut_rows)
    }
    return RealReferentiel(tree, records, scores_from_records(records), suivis)
