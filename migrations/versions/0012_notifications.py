"""in-app notifications and user email

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 04:10:00.000000

"""
from datetime import date, datetime, time, timedelta, timezone

from alembic import op
import sqlalchemy as sa

import engine.db.types
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CHINA_TZ = timezone(timedelta(hours=8))
# As engine.services.notifications schedules them for new rows: 30 days before and on the day, 09:00.
EXPIRY_STAGES = (("30d", 30), ("0d", 0))


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', engine.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_notification_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    _schedule_existing_expiries()


def _schedule_existing_expiries():
    """Expiry notices for the certificates and assessments recorded before notifications existed."""
    bind = op.get_bind()
    today = datetime.now(CHINA_TZ).date()
    now = datetime.now(timezone.utc)
    rows = [("certificate", r.id, r.valid_until) for r in bind.execute(sa.text(
        "SELECT id, valid_until FROM certificate WHERE valid_until >= :today"), {"today": today})]
    rows += [("assessment", r.id, r.valid_until) for r in bind.execute(sa.text(
        "SELECT id, valid_until FROM operation_record WHERE kind = 'assessment' AND valid_until >= :today"),
        {"today": today})]
    due_job = sa.table('due_job', sa.column('kind'), sa.column('key'), sa.column('due_at', engine.db.types.UTCDateTime()),
                       sa.column('status'), sa.column('payload', sa.JSON()), sa.column('attempts'),
                       sa.column('created_at', engine.db.types.UTCDateTime()))
    jobs = []
    for subject, row_id, valid_until in rows:
        if isinstance(valid_until, str):
            valid_until = date.fromisoformat(valid_until)
        for stage, days in EXPIRY_STAGES:
            due_at = datetime.combine(valid_until - timedelta(days=days), time(9), tzinfo=CHINA_TZ)
            if due_at > now:
                jobs.append({"kind": "expiry_notice", "key": f"expiry:{subject}:{row_id}:{valid_until}:{stage}",
                             "due_at": due_at, "status": "pending", "attempts": 0, "created_at": now,
                             "payload": {"subject": subject, "id": row_id, "valid_until": valid_until.isoformat(),
                                         "stage": stage}})
    if jobs:
        op.bulk_insert(due_job, jobs)


def downgrade():
    op.execute("DELETE FROM due_job WHERE kind IN ('expiry_notice', 'task_deadline')")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
        batch_op.drop_index(batch_op.f('ix_notification_instance_id'))

    op.drop_table('notification')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email')
