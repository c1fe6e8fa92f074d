"""sessions and submissions: signed-in browsers that end on sign-out, creating forms sent
once (by request key), and one month-end run of a month at a time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Read and edited by hand: UTCDateTime is the app's own type; duplicate open month-end runs
that an earlier version could start are finished (all but the first) before the unique
index that prevents them is made.
"""
import sqlalchemy as sa
from alembic import op

import app.models._types

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('started_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_staff_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('form_submissions',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_form_submissions_user_id_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_form_submissions'))
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_at'), ['at'], unique=False)

    op.execute("UPDATE statement_runs SET finished_at = started_at WHERE finished_at IS NULL "
               "AND id NOT IN (SELECT min(id) FROM statement_runs WHERE finished_at IS NULL "
               "GROUP BY month)")
    with op.batch_alter_table('statement_runs', schema=None) as batch_op:
        batch_op.create_index('uq_statement_runs_open_month', ['month'], unique=True,
                              sqlite_where=sa.text('finished_at IS NULL'),
                              postgresql_where=sa.text('finished_at IS NULL'))


def downgrade():
    with op.batch_alter_table('statement_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_statement_runs_open_month')
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_at'))
    op.drop_table('form_submissions')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))
    op.drop_table('staff_sessions')
