"""two-person jobs: the workers helping a slip's lead worker (两人作业)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Read and edited by hand. One new table; nothing else changes.
"""
import sqlalchemy as sa
from alembic import op

from app.models._types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "slip_helpers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["slip_id"], ["slips.id"], name=op.f("fk_slip_helpers_slip_id_slips")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_slip_helpers_user_id_users")),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"],
                                name=op.f("fk_slip_helpers_added_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_helpers")),
        sa.UniqueConstraint("slip_id", "user_id", name=op.f("uq_slip_helpers_slip_id_user_id")),
    )
    op.create_index(op.f("ix_slip_helpers_slip_id"), "slip_helpers", ["slip_id"])
    op.create_index(op.f("ix_slip_helpers_user_id"), "slip_helpers", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_slip_helpers_user_id"), table_name="slip_helpers")
    op.drop_index(op.f("ix_slip_helpers_slip_id"), table_name="slip_helpers")
    op.drop_table("slip_helpers")
