"""national platform data exchange

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db.types
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exchange_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('operation', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=24), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_exchange_record_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_record')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('exchange_record', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_record_region_code_id', ['region_code', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('exchange_record', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_record_region_code_id')

    op.drop_table('exchange_record')
