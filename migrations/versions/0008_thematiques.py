"""thématiques: the Climat Pratic thématique of each action (`climat_pratic_id` in the content)

Revision ID: 0008_thematiques
Revises: 0007_indicateurs
Create Date: 2026-12-04 20:00:00

A content column (no row-level security: content is the same for every collectivité). No foreign
key to `thematique`: the loader replaces the thématiques on each load.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_thematiques'
down_revision = '0007_indicateurs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('action') as batch_op:
        batch_op.add_column(sa.Column('thematique_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('action') as batch_op:
        batch_op.drop_column('thematique_id')
