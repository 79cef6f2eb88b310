"""snapshots: named copies of every node's scores at one moment ("figer l'état des lieux")

Revision ID: 0006_snapshots
Revises: 0005_node_score_history
Create Date: 2026-12-06 10:00:00

Table of app.models.suivi.ScoreSnapshot. On PostgreSQL, row-level security as the other suivi
tables (0004_rls): reads open (app/policy.py checks them), writes by an édition or admin member of
the collectivité, or system work. Dropping the table drops its policies.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_snapshots'
down_revision = '0005_node_score_history'
branch_labels = None
depends_on = None

EDITORS = "app_may_write(collectivite_id, '{edition,admin}')"  # the function of 0004_rls


def upgrade():
    op.create_table('score_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('referentiel_id', sa.String(length=16), nullable=False),
    sa.Column('nom', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content_version_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('point_fait', sa.Float(), nullable=False),
    sa.Column('point_programme', sa.Float(), nullable=False),
    sa.Column('point_pas_fait', sa.Float(), nullable=False),
    sa.Column('point_non_renseigne', sa.Float(), nullable=False),
    sa.Column('point_potentiel', sa.Float(), nullable=False),
    sa.Column('point_referentiel', sa.Float(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collectivite_id', 'referentiel_id', 'nom', name='uq_score_snapshot_nom')
    )
    with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_snapshot_collectivite_id'), ['collectivite_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE score_snapshot ENABLE ROW LEVEL SECURITY')
        op.execute('CREATE POLICY score_snapshot_read ON score_snapshot FOR SELECT USING (true)')
        op.execute(f'CREATE POLICY score_snapshot_insert ON score_snapshot FOR INSERT WITH CHECK ({EDITORS})')
        op.execute(f'CREATE POLICY score_snapshot_update ON score_snapshot FOR UPDATE USING ({EDITORS}) '
                   f'WITH CHECK ({EDITORS})')
        op.execute(f'CREATE POLICY score_snapshot_delete ON score_snapshot FOR DELETE USING ({EDITORS})')


def downgrade():
    with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_snapshot_collectivite_id'))

    op.drop_table('score_snapshot')
