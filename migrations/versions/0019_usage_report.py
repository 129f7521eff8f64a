"""usage report: indexes for the usage report (使用情况通报)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-22 06:00:00.000000

Cases completed in a period and the cases flagged overdue are read through two partial indexes (the
flagged ones are few); whether each regulator acted in a period is one probe of (actor_id, at) per
regulator account instead of a scan of the period's audit events.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COMPLETED = sa.text("status = 'completed'")
FLAGGED = sa.text("overdue_since IS NOT NULL")

INDEXES = (
    ('process_instance', 'ix_process_instance_completed', ['completed_at'],
     {'postgresql_where': COMPLETED, 'sqlite_where': COMPLETED}),
    ('process_instance', 'ix_process_instance_overdue', ['overdue_since'],
     {'postgresql_where': FLAGGED, 'sqlite_where': FLAGGED}),
    ('audit_event', 'ix_audit_event_actor_at', ['actor_id', 'at'], {}),
)


def upgrade():
    for table, name, columns, options in INDEXES:
        op.create_index(name, table, columns, unique=False, **options)


def downgrade():
    for table, name, _columns, _options in reversed(INDEXES):
        op.drop_index(name, table_name=table)
