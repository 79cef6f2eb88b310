"""node score history: each day's row of score_history keeps every node's score record

Revision ID: 0005_node_score_history
Revises: 0004_rls
Create Date: 2026-12-05 10:00:00

score_history.scores: action id -> score record (the shape of score_state.scores), written with the
root totals by each re-score. Days recorded before this revision keep their root totals only (null).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_node_score_history'
down_revision = '0004_rls'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scores', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.drop_column('scores')
