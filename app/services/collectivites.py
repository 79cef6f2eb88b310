"""The directory of collectivités: identity for personnalisation, search, and the bulk import of
the official lists (régions, départements, communes, groupements) plus the demo data set.

Import rule: read and check every file first (errors as `path:line: message`), write only when
all are clean, then upsert by (kind, code) in batches so that a re-import is idempotent.
"""
import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select

from app.auth import hash_password
from app.extensions import db
from app.models import Collectivite, Membership, User
from app.persistence import insert_statement, utcnow
from app.scoring.personnalisation import Identite, identite_for
from app.text import fold_accents

EPCI_NATURES = frozenset({"CC", "CA", "CU", "METRO", "EPT"})
# Syndicats and PETR / pôles métropolitains count as "EPCI" + "syndicat" for personnalisation.
SYNDICAT_NATURES = frozenset({"SIVU", "SIVOM", "SMF", "SMO", "PETR", "POLEM"})
_UPDATED_COLUMNS = ("nom", "nom_recherche", "nature", "population", "departement_code", "region_code", "drom")
BATCH_SIZE = 2000


class DirectoryErrors(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)  # rows read per kind
    created: int = 0
    updated: int = 0


def normalise_search(text: str) -> str:
    """Lower case, no accents, words separated by one space: 'Saint-Étienne' -> 'saint etienne'."""
    plain = fold_accents(text or "").lower()
    return " ".join(re.split(r"[^a-z0-9]+", plain)).strip()


def kind_for_nature(nature: str) -> str:
    return "EPCI" if nature in EPCI_NATURES else "syndicat"


# Identity ----------------------------------------------------------------------------------------


def identite_of(collectivite: Collectivite) -> Identite:
    """The identity tags personnalisation rules read (personnalisation.md §1.3).

    The kind is already the identity type ("commune", "EPCI", "syndicat" -> EPCI + syndicat);
    départements and régions get no type tag. DOM / Metropole comes from the région's drom flag.
    """
    return identite_for(collectivite.kind, collectivite.population, collectivite.drom)


# Directory pages ---------------------------------------------------------------------------------


def search_collectivites(query: str, limit: int = 20) -> list[Collectivite]:
    """Name (accent- and case-insensitive) or exact code; exact and prefix matches first, then biggest."""
    words = normalise_search(query)
    if not words:
        return []
    statement = (
        select(Collectivite)
        .where(or_(Collectivite.nom_recherche.like(f"%{words}%"), Collectivite.code == query.strip()))
        .order_by(
            (Collectivite.nom_recherche == words).desc(),
            Collectivite.nom_recherche.like(f"{words}%").desc(),
            Collectivite.population.desc().nulls_last(),
            Collectivite.nom,
        )
        .limit(limit)
    )
    return list(db.session.scalars(statement))


# Import ------------------------------------------------------------------------------------------


def _read_csv(path: Path, columns: set[str], errors: list[str]) -> Iterable[tuple[int, dict]]:
    if not path.is_file():
        errors.append(f"{path}: fichier introuvable")
        return
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = columns - set(reader.fieldnames or ())
        if missing:
            errors.append(f"{path}:1: colonnes manquantes : {', '.join(sorted(missing))}")
            return
        for row in reader:
            yield reader.line_num, row


def _population(value: str, where: str, errors: list[str]) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit():
        errors.append(f"{where}: population invalide : {value!r}")
        return None
    return int(value)


def _row(kind, code, nom, population, departement_code, region_code, drom, nature=None) -> dict:
    return {
        "kind": kind,
        "code": code,
        "nom": nom,
        "nom_recherche": normalise_search(nom),
        "nature": nature,
        "population": population,
        "departement_code": departement_code,
        "region_code": region_code,
        "drom": drom,
    }


def _departement(row: dict) -> tuple:
    return "departement", row["code"], row["code"], None


def _commune(row: dict) -> tuple:
    return "commune", row["code"], row["departement_code"], None


def _groupement(row: dict) -> tuple:
    return kind_for_nature(row["nature"]), row["siren"], row["departement_code"] or None, row["nature"]


# file -> (required columns, row -> (kind, code, departement_code, nature))
_SOURCES = (
    ("departements.csv", {"code", "region_code", "population", "libelle"}, _departement),
    ("communes.csv", {"code", "departement_code", "region_code", "libelle", "population"}, _commune),
    ("groupements.csv", {"siren", "libelle", "region_code", "departement_code", "nature", "population"}, _groupement),
)


def read_directory(directory: Path) -> list[dict]:
    """Rows for upsert_collectivites from the four CSV files; raises DirectoryErrors listing every problem."""
    directory, errors, rows = Path(directory), [], []
    drom_by_region = {}
    path = directory / "regions.csv"
    for line, row in _read_csv(path, {"code", "population", "libelle", "drom"}, errors):
        if row["drom"] not in ("true", "false"):
            errors.append(f"{path}:{line}: drom doit valoir true ou false, pas {row['drom']!r}")
        drom = drom_by_region[row["code"]] = row["drom"] == "true"
        population = _population(row["population"], f"{path}:{line}", errors)
        rows.append(_row("region", row["code"], row["libelle"], population, None, row["code"], drom))

    for name, columns, identify in _SOURCES:
        path = directory / name
        for line, row in _read_csv(path, columns, errors):
            where = f"{path}:{line}"
            if row["region_code"] not in drom_by_region:
                errors.append(f"{where}: région inconnue : {row['region_code']!r}")
                continue
            if "nature" in row and row["nature"] not in EPCI_NATURES | SYNDICAT_NATURES:
                errors.append(f"{where}: nature inconnue : {row['nature']!r}")
                continue
            if not row["libelle"].strip():
                errors.append(f"{where}: libellé vide")
            population = _population(row["population"], where, errors)
            kind, code, departement_code, nature = identify(row)
            rows.append(_row(kind, code, row["libelle"], population, departement_code, row["region_code"],
                             drom_by_region[row["region_code"]], nature))
    if errors:
        raise DirectoryErrors(errors)
    return rows


def _upsert_statement():
    statement = insert_statement(Collectivite.__table__)
    return statement.on_conflict_do_update(
        index_elements=["kind", "code"], set_={column: statement.excluded[column] for column in _UPDATED_COLUMNS}
    )


def upsert_collectivites(rows: list[dict], progress: Callable[[int], None] = lambda done: None) -> ImportReport:
    """Insert or update by (kind, code) in batches, one transaction; `progress` gets each batch size."""
    report = ImportReport(counts=Counter(row["kind"] for row in rows))
    before = db.session.scalar(select(func.count()).select_from(Collectivite))
    statement = _upsert_statement()
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        db.session.execute(statement, batch)
        progress(len(batch))
    after = db.session.scalar(select(func.count()).select_from(Collectivite))
    db.session.commit()
    report.created = after - before
    report.updated = len(rows) - report.created
    return report


# Demo data ---------------------------------------------------------------------------------------

DEMO_EMAIL = "demo@tet.local"
DEMO_PASSWORD = "demo-transition-2025"
# Fictional collectivités ("DEMO-" codes never clash with real INSEE codes or SIREN).
DEMO_COLLECTIVITES = (
    _row("commune", "DEMO-COMMUNE", "Ville-Démo-sur-Loire", 18_500, None, None, False),
    _row("EPCI", "DEMO-EPCI", "Communauté d'agglomération du Val Démo", 132_000, None, None, False, nature="CA"),
    _row("syndicat", "DEMO-SYNDICAT", "Syndicat mixte Démo des déchets", 61_000, None, None, False, nature="SMF"),
    _row("commune", "DEMO-DROM", "Démo-les-Bains (outre-mer)", 7_800, None, None, True),
)


def seed_demo() -> Collectivite:
    """Demo collectivités and the demo account (admin of the demo commune); safe to run again."""
    upsert_collectivites(list(DEMO_COLLECTIVITES))
    commune = db.session.scalar(select(Collectivite).filter_by(kind="commune", code="DEMO-COMMUNE"))
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = User(email=DEMO_EMAIL, name="Compte de démonstration", password_hash=hash_password(DEMO_PASSWORD),
                    created_at=utcnow(), is_active=True)
        db.session.add(user)
        db.session.flush()
    membership = db.session.get(Membership, (user.id, commune.id))
    if membership is None:
        db.session.add(Membership(user_id=user.id, collectivite_id=commune.id, role="admin", created_at=utcnow()))
    else:
        membership.role = "admin"
    db.session.commit()
    return commune
