"""Initial store schema: reports, attachments, status history, checkpoints, quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkpoints',
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel')
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_name', sa.String(length=200), nullable=False),
    sa.Column('channel_kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('raw_uri', sa.Text(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replayed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replay_report_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_quarantine_channel_name'), 'quarantine', ['channel_name'], unique=False)
    op.create_table('reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('tracking_no', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('duplicate_of', sa.String(length=36), nullable=True),
    sa.Column('verified_by', sa.String(length=200), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('schema_version', sa.String(length=8), nullable=False),
    sa.Column('channel_kind', sa.String(length=32), nullable=False),
    sa.Column('channel_name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reporter_name', sa.Text(), nullable=True),
    sa.Column('reporter_email', sa.String(length=320), nullable=True),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('reporter_handle', sa.String(length=200), nullable=True),
    sa.Column('reporter_address', sa.Text(), nullable=True),
    sa.Column('reporter_nik_masked', sa.String(length=16), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('location_text', sa.Text(), nullable=True),
    sa.Column('location_village', sa.String(length=200), nullable=True),
    sa.Column('location_district', sa.String(length=200), nullable=True),
    sa.Column('location_regency', sa.String(length=200), nullable=True),
    sa.Column('location_province', sa.String(length=200), nullable=True),
    sa.Column('location_lat', sa.Float(), nullable=True),
    sa.Column('location_lon', sa.Float(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('category', sa.String(length=200), nullable=True),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_reply_to', sa.Text(), nullable=True),
    sa.Column('signature_present', sa.Boolean(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('raw_uri', sa.Text(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq'),
    sa.UniqueConstraint('tracking_no')
    )
    op.create_index(op.f('ix_reports_category'), 'reports', ['category'], unique=False)
    op.create_index(op.f('ix_reports_channel_kind'), 'reports', ['channel_kind'], unique=False)
    op.create_index(op.f('ix_reports_channel_name'), 'reports', ['channel_name'], unique=False)
    op.create_index(op.f('ix_reports_due_at'), 'reports', ['due_at'], unique=False)
    op.create_index(op.f('ix_reports_location_district'), 'reports', ['location_district'], unique=False)
    op.create_index(op.f('ix_reports_received_at'), 'reports', ['received_at'], unique=False)
    op.create_index(op.f('ix_reports_reporter_email'), 'reports', ['reporter_email'], unique=False)
    op.create_index(op.f('ix_reports_reporter_handle'), 'reports', ['reporter_handle'], unique=False)
    op.create_index(op.f('ix_reports_reporter_phone'), 'reports', ['reporter_phone'], unique=False)
    op.create_index(op.f('ix_reports_status'), 'reports', ['status'], unique=False)
    op.create_index(op.f('ix_reports_text_key'), 'reports', ['text_key'], unique=False)
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_attachments_report_id'), 'attachments', ['report_id'], unique=False)
    op.create_index(op.f('ix_attachments_sha256'), 'attachments', ['sha256'], unique=False)
    op.create_table('status_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_status_history_report_id'), 'status_history', ['report_id'], unique=False)
    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.String()), sa.column("value", sa.BigInteger())),
        [{"name": "tracking", "value": 0}],
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_status_history_report_id'), table_name='status_history')
    op.drop_table('status_history')
    op.drop_index(op.f('ix_attachments_sha256'), table_name='attachments')
    op.drop_index(op.f('ix_attachments_report_id'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_index(op.f('ix_reports_text_key'), table_name='reports')
    op.drop_index(op.f('ix_reports_status'), table_name='reports')
    op.drop_index(op.f('ix_reports_reporter_phone'), table_name='reports')
    op.drop_index(op.f('ix_reports_reporter_handle'), table_name='reports')
    op.drop_index(op.f('ix_reports_reporter_email'), table_name='reports')
    op.drop_index(op.f('ix_reports_received_at'), table_name='reports')
    op.drop_index(op.f('ix_reports_location_district'), table_name='reports')
    op.drop_index(op.f('ix_reports_due_at'), table_name='reports')
    op.drop_index(op.f('ix_reports_channel_name'), table_name='reports')
    op.drop_index(op.f('ix_reports_channel_kind'), table_name='reports')
    op.drop_index(op.f('ix_reports_category'), table_name='reports')
    op.drop_table('reports')
    op.drop_index(op.f('ix_quarantine_channel_name'), table_name='quarantine')
    op.drop_table('quarantine')
    op.drop_table('counters')
    op.drop_table('checkpoints')
