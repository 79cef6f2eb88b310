"""fiche_indicateurs: the indicateurs a fiche action follows, and its étapes (app.models.plans)

Revision ID: 0012_fiche_indicateurs
Revises: 0011_audits
Create Date: 2026-12-05 07:55:00

On PostgreSQL, row-level security as the other plan tables (0010_plans): reads open, writes by an
édition or admin member of the collectivité, or system work.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_fiche_indicateurs'
down_revision = '0011_audits'
branch_labels = None
depends_on = None

TABLES = ("fiche_indicateur", "fiche_etape")
EDITORS = "app_may_write(collectivite_id, '{edition,admin}')"  # the function of 0004_rls


def upgrade():
    op.create_table('fiche_indicateur',
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('fiche_id', sa.Integer(), nullable=False),
    sa.Column('indicateur_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fiche_id'], ['fiche.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('fiche_id', 'indicateur_id')
    )
    with op.batch_alter_table('fiche_indicateur', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fiche_indicateur_collectivite_id'), ['collectivite_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fiche_indicateur_indicateur_id'), ['indicateur_id'], unique=False)

    op.create_table('fiche_etape',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('fiche_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=300), nullable=False),
    sa.Column('realise', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fiche_id'], ['fiche.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fiche_etape', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fiche_etape_collectivite_id'), ['collectivite_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fiche_etape_fiche_id'), ['fiche_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)')
            op.execute(f'CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({EDITORS})')
            op.execute(f'CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({EDITORS}) WITH CHECK ({EDITORS})')
            op.execute(f'CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({EDITORS})')


def downgrade():
    with op.batch_alter_table('fiche_etape', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fiche_etape_fiche_id'))
        batch_op.drop_index(batch_op.f('ix_fiche_etape_collectivite_id'))

    op.drop_table('fiche_etape')
    with op.batch_alter_table('fiche_indicateur', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fiche_indicateur_indicateur_id'))
        batch_op.drop_index(batch_op.f('ix_fiche_indicateur_collectivite_id'))

    op.drop_table('fiche_indicateur')
