"""index of the cases with an incident

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 05:33:43.829533

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

WHERE = sa.text('error IS NOT NULL')


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index('ix_process_instance_incident', ['id'], unique=False,
                              postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_incident', postgresql_where=WHERE, sqlite_where=WHERE)
