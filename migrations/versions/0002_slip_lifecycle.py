"""slip lifecycle: reception log, service slips with lines, history and photos, counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Read and edited by hand: UTCDateTime is the app's own type; the live stamp starts at zero.
"""
import sqlalchemy as sa
from alembic import op

import app.models._types


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_stamps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.Column('changed_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_stamps'))
    )
    op.create_table('number_sequences',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_number_sequences'))
    )
    op.create_table('reception_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('caller_name', sa.String(length=40), nullable=False),
    sa.Column('caller_phone', sa.String(length=30), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('closed_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('taken_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_reception_entries_resident_id_residents')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_reception_entries_taken_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_reception_entries_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_entries'))
    )
    with op.batch_alter_table('reception_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_entries_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_entries_taken_by_id'), ['taken_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_entries_unit_id'), ['unit_id'], unique=False)

    op.create_table('slips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reception_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=40), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('free', sa.Boolean(), nullable=False),
    sa.Column('window_start', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_end', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('price_list_id', sa.Integer(), nullable=True),
    sa.Column('quoted_total_fen', sa.Integer(), nullable=False),
    sa.Column('agreed_total_fen', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=False),
    sa.Column('dispatched_by_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('due_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_since', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('nobody_home_count', sa.Integer(), nullable=False),
    sa.Column('damage_note', sa.Text(), nullable=False),
    sa.Column('materials', sa.Text(), nullable=False),
    sa.Column('acceptance_name', sa.String(length=40), nullable=False),
    sa.Column('signature_file', sa.String(length=120), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('acceptance_remarks', sa.Text(), nullable=False),
    sa.Column('completed_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handed_back_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=300), nullable=False),
    sa.Column('updated_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispatched_by_id'], ['users.id'], name=op.f('fk_slips_dispatched_by_id_users')),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_lists.id'], name=op.f('fk_slips_price_list_id_price_lists')),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_slips_received_by_id_users')),
    sa.ForeignKeyConstraint(['reception_id'], ['reception_entries.id'], name=op.f('fk_slips_reception_id_reception_entries')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_slips_resident_id_residents')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_slips_unit_id_units')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_slips_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slips')),
    sa.UniqueConstraint('number', name=op.f('uq_slips_number'))
    )
    with op.batch_alter_table('slips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slips_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_slips_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_slips_reception_id'), ['reception_id'], unique=False)
        batch_op.create_index('ix_slips_state_urgent', ['state', 'urgent'], unique=False)
        batch_op.create_index(batch_op.f('ix_slips_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_slips_worker_state', ['worker_id', 'state'], unique=False)

    op.create_table('slip_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_slip_events_actor_id_users')),
    sa.ForeignKeyConstraint(['slip_id'], ['slips.id'], name=op.f('fk_slip_events_slip_id_slips')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slip_events')),
    sa.UniqueConstraint('request_key', name=op.f('uq_slip_events_request_key'))
    )
    with op.batch_alter_table('slip_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slip_events_slip_id'), ['slip_id'], unique=False)

    op.create_table('slip_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('price_item_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('list_min_fen', sa.Integer(), nullable=True),
    sa.Column('list_max_fen', sa.Integer(), nullable=True),
    sa.Column('by_workload', sa.Boolean(), nullable=False),
    sa.Column('free', sa.Boolean(), nullable=False),
    sa.Column('unit_price_fen', sa.Integer(), nullable=False),
    sa.Column('final_price_fen', sa.Integer(), nullable=True),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_slip_lines_approved_by_id_users')),
    sa.ForeignKeyConstraint(['price_item_id'], ['price_items.id'], name=op.f('fk_slip_lines_price_item_id_price_items')),
    sa.ForeignKeyConstraint(['slip_id'], ['slips.id'], name=op.f('fk_slip_lines_slip_id_slips')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slip_lines'))
    )
    with op.batch_alter_table('slip_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slip_lines_slip_id'), ['slip_id'], unique=False)

    op.create_table('slip_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('file', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=30), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['slip_id'], ['slips.id'], name=op.f('fk_slip_photos_slip_id_slips')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_slip_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slip_photos'))
    )
    with op.batch_alter_table('slip_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slip_photos_slip_id'), ['slip_id'], unique=False)



def downgrade():
    with op.batch_alter_table('slip_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slip_photos_slip_id'))

    op.drop_table('slip_photos')
    with op.batch_alter_table('slip_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slip_lines_slip_id'))

    op.drop_table('slip_lines')
    with op.batch_alter_table('slip_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slip_events_slip_id'))

    op.drop_table('slip_events')
    with op.batch_alter_table('slips', schema=None) as batch_op:
        batch_op.drop_index('ix_slips_worker_state')
        batch_op.drop_index(batch_op.f('ix_slips_unit_id'))
        batch_op.drop_index('ix_slips_state_urgent')
        batch_op.drop_index(batch_op.f('ix_slips_reception_id'))
        batch_op.drop_index(batch_op.f('ix_slips_created_at'))
        batch_op.drop_index(batch_op.f('ix_slips_completed_at'))

    op.drop_table('slips')
    with op.batch_alter_table('reception_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_entries_unit_id'))
        batch_op.drop_index(batch_op.f('ix_reception_entries_taken_by_id'))
        batch_op.drop_index(batch_op.f('ix_reception_entries_kind'))
        batch_op.drop_index(batch_op.f('ix_reception_entries_at'))

    op.drop_table('reception_entries')
    op.drop_table('number_sequences')
    op.drop_table('live_stamps')
