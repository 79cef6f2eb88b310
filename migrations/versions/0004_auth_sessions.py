"""auth sessions: server-side signed-in sessions; login failures become rate-limited attempts

Revision ID: 0004_auth_sessions
Revises: 0003
Create Date: 2026-12-04 16:30:00

user_session: one row per signed-in browser (logout deletes it). rate_limited_attempt replaces
login_failure (failed logins, reset mails, sign-ups); the old rows are short-lived counters and are
not carried over. Sessions opened before this revision must sign in again.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_auth_sessions'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('rate_limited_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rate_limited_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_rate_limited_attempt_action_email_at', ['action', 'email', 'created_at'], unique=False)
        batch_op.create_index('ix_rate_limited_attempt_action_ip_at', ['action', 'ip', 'created_at'], unique=False)

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_email_ip_at')
    op.drop_table('login_failure')


def downgrade():
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_email_ip_at', ['email', 'ip', 'created_at'], unique=False)

    with op.batch_alter_table('rate_limited_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limited_attempt_action_ip_at')
        batch_op.drop_index('ix_rate_limited_attempt_action_email_at')
    op.drop_table('rate_limited_attempt')

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
