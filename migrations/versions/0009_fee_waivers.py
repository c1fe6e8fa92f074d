"""a fee waived by a supervisor (减免): the amount, who waived it, when and why

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Read and edited by hand. Four columns on slips; the reason is filled with '' for the rows
already there (the app always writes it).
"""
import sqlalchemy as sa
from alembic import op

from app.models._types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("slips") as batch_op:
        batch_op.add_column(sa.Column("waived_fen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waived_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waived_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("waiver_reason", sa.String(length=300), nullable=False,
                                      server_default=""))
        batch_op.create_foreign_key(op.f("fk_slips_waived_by_id_users"), "users",
                                    ["waived_by_id"], ["id"])
    with op.batch_alter_table("slips") as batch_op:  # existing rows filled: the app writes it
        batch_op.alter_column("waiver_reason", server_default=None)


def downgrade():
    with op.batch_alter_table("slips") as batch_op:
        batch_op.drop_constraint(op.f("fk_slips_waived_by_id_users"), type_="foreignkey")
        batch_op.drop_column("waiver_reason")
        batch_op.drop_column("waived_at")
        batch_op.drop_column("waived_by_id")
        batch_op.drop_column("waived_fen")
