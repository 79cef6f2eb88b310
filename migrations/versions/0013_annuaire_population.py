"""annuaire_population: the directory's sort by population gets its index

Revision ID: 0013_annuaire_population
Revises: 0012_fiche_indicateurs
Create Date: 2026-12-05 12:05:00

`/annuaire?tri=population` reads its page from this index instead of sorting the 45,000
collectivités.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_annuaire_population'
down_revision = '0012_fiche_indicateurs'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite puts NULLs last in a descending order already, and its indexes know no NULLS LAST.
    nulls_last = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f'CREATE INDEX ix_collectivite_population_id ON collectivite (population DESC{nulls_last}, id)')


def downgrade():
    op.drop_index('ix_collectivite_population_id', table_name='collectivite')
