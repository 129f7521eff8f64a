"""tamper-evident audit chain

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 06:00:00.000000

The existing audit events are chained in id order per chain and sealed with the key the
application uses (AUDIT_CHAIN_KEY, else derived from SECRET_KEY): the migration runs inside the
application (`flask db upgrade`, `flask craneflow setup-db`), so it reads the same configuration.
"""
from alembic import op
import sqlalchemy as sa

import engine.db.types
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BATCH = 2000
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('audit_chain',
    sa.Column('chain', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chain'))
    )
    op.create_table('audit_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', engine.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=True),
    sa.Column('chains', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('broken', JSON, nullable=False),
    sa.Column('run_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_by_id'], ['user_account.id'], name=op.f('fk_audit_verification_run_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_verification'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    _chain_existing_events()

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('chain', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_audit_event_chain_seq', ['chain', 'seq'], unique=True)


def _chain_existing_events():
    """Link every existing event, in id order per chain, and write the chains' heads."""
    from flask import current_app

    from engine.db.base import utcnow
    from engine.services.audit_chain import GENESIS, chain_for, event_hash, key_from_config

    key = key_from_config(current_app.config)
    conn = op.get_bind()
    events = sa.table('audit_event', sa.column('id', sa.Integer), sa.column('instance_id', sa.Integer),
                      sa.column('actor_id', sa.Integer), sa.column('action', sa.String),
                      sa.column('task_name', sa.String), sa.column('from_state', sa.String),
                      sa.column('to_state', sa.String), sa.column('detail', JSON),
                      sa.column('at', engine.db.types.UTCDateTime(timezone=True)),
                      sa.column('chain', sa.String), sa.column('seq', sa.Integer),
                      sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    heads = sa.table('audit_chain', sa.column('chain', sa.String), sa.column('seq', sa.Integer),
                     sa.column('hash', sa.String), sa.column('updated_at', engine.db.types.UTCDateTime(timezone=True)))
    link = (events.update().where(events.c.id == sa.bindparam('event_id'))
            .values(chain=sa.bindparam('new_chain'), seq=sa.bindparam('new_seq'),
                    prev_hash=sa.bindparam('new_prev'), hash=sa.bindparam('new_hash')))
    last = {}  # chain -> (seq, hash)
    after = 0
    while True:
        rows = conn.execute(sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        updates = []
        for r in rows:
            row = dict(r)
            row['detail'] = row['detail'] or {}
            row['chain'] = chain_for(row['instance_id'], row['detail'])
            seq, prev = last.get(row['chain'], (0, GENESIS))
            row['seq'], row['prev_hash'] = seq + 1, prev
            row['hash'] = event_hash(key, row)
            last[row['chain']] = (row['seq'], row['hash'])
            updates.append({'event_id': row['id'], 'new_chain': row['chain'], 'new_seq': row['seq'],
                            'new_prev': row['prev_hash'], 'new_hash': row['hash']})
        conn.execute(link, updates)
        after = rows[-1]['id']
    if last:
        now = utcnow()
        items = sorted(last.items())
        for i in range(0, len(items), BATCH):
            conn.execute(heads.insert(), [{'chain': c, 'seq': s, 'hash': h, 'updated_at': now}
                                          for c, (s, h) in items[i:i + BATCH]])


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_chain_seq')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
        batch_op.drop_column('chain')

    op.drop_table('audit_verification')
    op.drop_table('audit_chain')
