"""partage: score summaries for the directory and open data, public-page preferences

Revision ID: 0009_partage
Revises: 0008_thematiques
Create Date: 2026-12-04 20:00:00

Tables of app.models.partage, and the directory's filter indexes on collectivite. On PostgreSQL,
row-level security as 0004_rls: reads open (public data); score_summary is written by re-scores
only (system work), partage_preference by an admin of the collectivité. The stored scores are
marked stale so that their re-score fills score_summary.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_partage'
down_revision = '0008_thematiques'
branch_labels = None
depends_on = None

POLICIES = {"score_summary": "'{}'", "partage_preference": "'{admin}'"}  # table -> roles besides system work
COLLECTIVITE_INDEXES = ("kind", "region_code", "departement_code")


def upgrade():
    op.create_table('score_summary',
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('referentiel_id', sa.String(length=16), nullable=False),
    sa.Column('realise', sa.Float(), nullable=False),
    sa.Column('programme', sa.Float(), nullable=False),
    sa.Column('etoiles', sa.Integer(), nullable=True),
    sa.Column('axes', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collectivite_id', 'referentiel_id')
    )
    op.create_index('ix_score_summary_referentiel_realise', 'score_summary', ['referentiel_id', 'realise'], unique=False)
    op.create_table('partage_preference',
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('statuts_publics', sa.Boolean(), nullable=False),
    sa.Column('precisions_publiques', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collectivite_id')
    )
    with op.batch_alter_table('collectivite', schema=None) as batch_op:
        for column in COLLECTIVITE_INDEXES:
            batch_op.create_index(batch_op.f(f'ix_collectivite_{column}'), [column], unique=False)
        batch_op.create_index('ix_collectivite_nom_recherche_id', ['nom_recherche', 'id'], unique=False)

    # Backfill: every stored score becomes stale, so the workers' start-up sweep (or `flask scores
    # rescore --stale`) re-scores it and writes its summary.
    op.execute('UPDATE score_state SET scored_revision = -1')

    if op.get_bind().dialect.name == "postgresql":
        for table, roles in POLICIES.items():
            writers = f"app_may_write(collectivite_id, {roles})"  # the function of 0004_rls
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)')
            op.execute(f'CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({writers})')
            op.execute(f'CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({writers}) WITH CHECK ({writers})')
            op.execute(f'CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({writers})')


def downgrade():
    with op.batch_alter_table('collectivite', schema=None) as batch_op:
        batch_op.drop_index('ix_collectivite_nom_recherche_id')
        for column in COLLECTIVITE_INDEXES:
            batch_op.drop_index(batch_op.f(f'ix_collectivite_{column}'))
    op.drop_table('partage_preference')
    op.drop_index('ix_score_summary_referentiel_realise', table_name='score_summary')
    op.drop_table('score_summary')
