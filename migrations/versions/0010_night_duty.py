"""the supervisor on duty for the night (值班主管), who sees an unanswered urgent call first

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Read and edited by hand. One new table; nothing else changes.
"""
import sqlalchemy as sa
from alembic import op

from app.models._types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "night_duties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at >= starts_at", name=op.f("ck_night_duties_duty_ends_not_before_start")),
        sa.ForeignKeyConstraint(["supervisor_id"], ["users.id"],
                                name=op.f("fk_night_duties_supervisor_id_users")),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"],
                                name=op.f("fk_night_duties_set_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_night_duties")),
    )
    op.create_index(op.f("ix_night_duties_starts_at"), "night_duties", ["starts_at"])
    op.create_index(op.f("ix_night_duties_ends_at"), "night_duties", ["ends_at"])


def downgrade():
    op.drop_index(op.f("ix_night_duties_ends_at"), table_name="night_duties")
    op.drop_index(op.f("ix_night_duties_starts_at"), table_name="night_duties")
    op.drop_table("night_duties")
