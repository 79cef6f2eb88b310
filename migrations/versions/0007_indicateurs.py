"""indicateurs: definitions (content), indicateurs personnalisés and yearly values

Revision ID: 0007_indicateurs
Revises: 0006_snapshots
Create Date: 2026-12-04 20:00:00

Tables of app.models.indicateurs. On PostgreSQL, the collectivités' tables (indicateur_perso,
indicateur_valeur) get the row-level security of 0004_rls: reads open (app/policy.py and the
service check them, confidential values included), writes by an édition or admin member.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_indicateurs'
down_revision = '0006_snapshots'
branch_labels = None
depends_on = None

EDITORS = "app_may_write(collectivite_id, '{edition,admin}')"  # the function of 0004_rls


def upgrade():
    op.create_table('indicateur_definition',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('titre', sa.Text(), nullable=False),
    sa.Column('titre_court', sa.Text(), nullable=False),
    sa.Column('unite', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('parents', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('thematiques', sa.JSON(), nullable=False),
    sa.Column('action_ids', sa.JSON(), nullable=False),
    sa.Column('formule', sa.Text(), nullable=True),
    sa.Column('participation_score', sa.Boolean(), nullable=False),
    sa.Column('sans_valeur_utilisateur', sa.Boolean(), nullable=False),
    sa.Column('borne_min', sa.Float(), nullable=True),
    sa.Column('borne_max', sa.Float(), nullable=True),
    sa.Column('precision', sa.Integer(), nullable=False),
    sa.Column('expr_cible', sa.Text(), nullable=True),
    sa.Column('expr_seuil', sa.Text(), nullable=True),
    sa.Column('libelle_cible_seuil', sa.Text(), nullable=True),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('source_line', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('indicateur_definition_action',
    sa.Column('indicateur_id', sa.String(length=64), nullable=False),
    sa.Column('action_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('indicateur_id', 'action_id')
    )
    with op.batch_alter_table('indicateur_definition_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicateur_definition_action_action_id'), ['action_id'], unique=False)

    op.create_table('indicateur_perso',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=300), nullable=False),
    sa.Column('unite', sa.String(length=100), nullable=False),
    sa.Column('thematiques', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('indicateur_perso', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicateur_perso_collectivite_id'), ['collectivite_id'], unique=False)

    op.create_table('indicateur_valeur',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collectivite_id', sa.Integer(), nullable=False),
    sa.Column('indicateur_id', sa.String(length=64), nullable=False),
    sa.Column('annee', sa.Integer(), nullable=False),
    sa.Column('resultat', sa.Float(), nullable=True),
    sa.Column('resultat_commentaire', sa.Text(), nullable=False),
    sa.Column('resultat_source', sa.String(length=300), nullable=False),
    sa.Column('objectif', sa.Float(), nullable=True),
    sa.Column('objectif_commentaire', sa.Text(), nullable=False),
    sa.Column('objectif_source', sa.String(length=300), nullable=False),
    sa.Column('confidentiel', sa.Boolean(), nullable=False),
    sa.Column('calcul_auto', sa.Boolean(), nullable=False),
    sa.Column('modified_by_id', sa.Integer(), nullable=True),
    sa.Column('modified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivite.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['modified_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collectivite_id', 'indicateur_id', 'annee', name='uq_indicateur_valeur_annee')
    )
    with op.batch_alter_table('indicateur_valeur', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicateur_valeur_collectivite_id'), ['collectivite_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in ('indicateur_perso', 'indicateur_valeur'):
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)')
            op.execute(f'CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({EDITORS})')
            op.execute(f'CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({EDITORS}) WITH CHECK ({EDITORS})')
            op.execute(f'CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({EDITORS})')


def downgrade():
    with op.batch_alter_table('indicateur_valeur', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicateur_valeur_collectivite_id'))
    op.drop_table('indicateur_valeur')
    with op.batch_alter_table('indicateur_perso', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicateur_perso_collectivite_id'))
    op.drop_table('indicateur_perso')
    with op.batch_alter_table('indicateur_definition_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicateur_definition_action_action_id'))
    op.drop_table('indicateur_definition_action')
    op.drop_table('indicateur_definition')
