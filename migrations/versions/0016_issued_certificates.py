"""issued certificates

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db.types
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('crane_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('authority_region_code', sa.String(length=6), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['crane_id'], ['crane.id'], name=op.f('fk_issued_certificate_crane_id_crane')),
    sa.ForeignKeyConstraint(['authority_region_code'], ['region.code'],
                            name=op.f('fk_issued_certificate_authority_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_certificate')),
    sa.UniqueConstraint('number', name=op.f('uq_issued_certificate_number'))
    )
    with op.batch_alter_table('issued_certificate', schema=None) as batch_op:
        batch_op.create_index('ix_issued_certificate_crane_kind_status', ['crane_id', 'kind', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('issued_certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_issued_certificate_crane_kind_status')

    op.drop_table('issued_certificate')
