"""a slip refused at the door: the state 'refused' (the resident said no after check-in; the
supervisor closes it, with or without a call-out fee, or has it quoted again) and the reason
the resident gave

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Read and edited by hand. slips gains refusal_reason; the state checks of slips and
slip_events are dropped and written again with the new list (SQLite rebuilds the table in
batch mode; the money guard's triggers are removed first and written again afterwards, as
in 0006). A downgrade puts a refused slip back at the door (on_site).
"""
import sqlalchemy as sa
from alembic import op

from app.models import money_guard

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BEFORE = ("'registered', 'dispatched', 'accepted', 'on_site', 'awaiting_price', "
          "'in_progress', 'completed', 'handed_back', 'nobody_home', 'cancelled', "
          "'disputed', 'settled', 'on_account', 'closed'")
AFTER = ("'registered', 'dispatched', 'accepted', 'on_site', 'awaiting_price', "
         "'in_progress', 'completed', 'handed_back', 'nobody_home', 'refused', 'cancelled', "
         "'disputed', 'settled', 'on_account', 'closed'")

CHECKS = {
    "slips": [("ck_slips_state_allowed", "state")],
    "slip_events": [("ck_slip_events_from_state_allowed", "from_state"),
                    ("ck_slip_events_to_state_allowed", "to_state")],
}


def _rewrite(states: str) -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        money_guard.remove(bind)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            for name, column in checks:
                batch_op.drop_constraint(op.f(name), type_="check")
                batch_op.create_check_constraint(op.f(name), f"{column} IN ({states})")
    if sqlite:
        money_guard.install(bind)


def upgrade():
    with op.batch_alter_table("slips") as batch_op:
        batch_op.add_column(sa.Column("refusal_reason", sa.String(length=300), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("slips") as batch_op:  # existing rows filled: the app writes it
        batch_op.alter_column("refusal_reason", server_default=None)
    _rewrite(AFTER)


def downgrade():
    op.execute("UPDATE slips SET state = 'on_site' WHERE state = 'refused'")
    op.execute("UPDATE slip_events SET to_state = 'on_site' WHERE to_state = 'refused'")
    op.execute("UPDATE slip_events SET from_state = 'on_site' WHERE from_state = 'refused'")
    _rewrite(BEFORE)
    with op.batch_alter_table("slips") as batch_op:
        batch_op.drop_column("refusal_reason")
