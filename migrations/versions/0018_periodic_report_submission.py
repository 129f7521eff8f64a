"""periodic report submission

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-22 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import engine.db.types

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('report_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('period_label', sa.String(length=40), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('fields', JSON, nullable=False),
    sa.Column('deadline_on', sa.Date(), nullable=False),
    sa.Column('include_counties', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_report_definition_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_definition'))
    )
    with op.batch_alter_table('report_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_definition_status'), ['status'], unique=False)

    op.create_table('report_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('values', JSON, nullable=False),
    sa.Column('submitted_at', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('accepted_at', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_since', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['report_definition.id'], name=op.f('fk_report_submission_definition_id_report_definition')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_report_submission_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_report_submission_region_code_region')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_report_submission_submitted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_submission')),
    sa.UniqueConstraint('definition_id', 'region_code', name=op.f('uq_report_submission_definition_id_region_code')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_report_submission_instance_id'))
    )
    with op.batch_alter_table('report_submission', schema=None) as batch_op:
        batch_op.create_index('ix_report_submission_region', ['region_code', 'definition_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_report_submission_region')
    op.drop_table('report_submission')
    with op.batch_alter_table('report_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_definition_status'))
    op.drop_table('report_definition')
