"""money guard: triggers that refuse UPDATE and DELETE of payments and cash counts, and any
change to an account entry but its review and statement stamps (set once)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Read and edited by hand: the trigger DDL for both databases is in app.models.money_guard,
which also lifts the guard for a whole-database wipe.
"""
from alembic import op

from app.models import money_guard

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    money_guard.install(op.get_bind())


def downgrade():
    money_guard.remove(op.get_bind())
