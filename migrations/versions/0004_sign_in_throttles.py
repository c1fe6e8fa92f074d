"""sign-in throttles: failed sign-ins per network address, counted by every process

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Read and edited by hand: UTCDateTime is the app's own type.
"""
import sqlalchemy as sa
from alembic import op

import app.models._types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_throttles',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_sign_in_throttles'))
    )


def downgrade():
    op.drop_table('sign_in_throttles')
