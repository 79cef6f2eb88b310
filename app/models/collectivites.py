"""The directory of collectivités (communes, groupements, départements, régions) loaded from the official lists."""
from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# kind -> French label; groupement natures map onto "EPCI" or "syndicat" (see services.collectivites).
KINDS = {
    "commune": "Commune",
    "EPCI": "EPCI",
    "syndicat": "Syndicat",
    "departement": "Département",
    "region": "Région",
}


class Collectivite(db.Model):
    __tablename__ = "collectivite"
    # Région and département INSEE codes overlap ("01" is both), so the code is unique per kind.
    __table_args__ = (
        UniqueConstraint("kind", "code", name="uq_collectivite_kind_code"),
        Index("ix_collectivite_nom_recherche_id", "nom_recherche", "id"),  # the directory's pages by name
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(300))
    # Lower-case, accent-free copy of nom for the directory search.
    nom_recherche: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str] = mapped_column(String(16))  # INSEE code (commune, département, région) or SIREN
    nature: Mapped[str | None] = mapped_column(String(8))  # CC, CA, CU, METRO, EPT, SIVU, SIVOM, SMF, SMO, PETR, POLEM
    population: Mapped[int | None] = mapped_column(Integer)
    departement_code: Mapped[str | None] = mapped_column(String(3), index=True)  # directory filters
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    drom: Mapped[bool] = mapped_column(Boolean, default=False)


# The directory's pages by population, largest first (its sort, to the letter). On SQLite, whose
# indexes know no NULLS LAST, migration 0013 creates it as (population DESC, id): the same order there.
Index("ix_collectivite_population_id", Collectivite.population.desc().nulls_last(), Collectivite.id).ddl_if(
    dialect="postgresql")
