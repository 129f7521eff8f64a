"""statistics facts: indexes for the regulator statistics

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22 06:00:00.000000

Each dashboard section is a grouped query over one of these (PostgreSQL answers most from the index
alone: the INCLUDE columns are what the query reads; SQLite ignores them).
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

REVIEWS_DONE = sa.text("status = 'completed' AND role = 'regulator'")
OPEN = sa.text("status = 'open'")

INDEXES = (
    # Filed cranes by region × type × state, and the age figures of a city or county.
    ('crane', 'ix_crane_statistics', ['filing_region_code', 'crane_type', 'status'], {
        'postgresql_include': ['id', 'filed_at', 'manufacture_date', 'rated_moment_knm', 'hoist_drive']}),
    # Applications lodged per month and procedure.
    ('process_instance', 'ix_process_instance_statistics', ['process_key', 'started_at'], {
        'postgresql_include': ['region_code']}),
    # Completed regulator reviews: the province's (by completion time) and a city's or county's.
    ('human_task', 'ix_human_task_reviews_done', ['completed_at'], {
        'postgresql_include': ['city_code', 'province_code', 'region_code', 'created_at', 'due_at'],
        'postgresql_where': REVIEWS_DONE, 'sqlite_where': REVIEWS_DONE}),
    ('human_task', 'ix_human_task_reviews_done_city', ['city_code', 'completed_at'], {
        'postgresql_include': ['region_code', 'created_at', 'due_at'],
        'postgresql_where': REVIEWS_DONE, 'sqlite_where': REVIEWS_DONE}),
    # Spot checks per month, notices closed per month, and the open notices past their deadline.
    ('inspection', 'ix_inspection_check_date', ['check_date'], {}),
    ('inspection', 'ix_inspection_closed_at', ['closed_at'], {}),
    ('inspection', 'ix_inspection_open_deadline', ['deadline_on'], {'postgresql_where': OPEN, 'sqlite_where': OPEN}),
    # Re-inspections per month (the audit trail's `reinspected` events).
    ('audit_event', 'ix_audit_event_action_at', ['action', 'at'], {}),
    # Safety assessments of a crane (the ages section joins the valid ones).
    ('operation_record', 'ix_operation_record_kind_crane', ['kind', 'crane_id'], {
        'postgresql_include': ['result', 'valid_until']}),
)


def upgrade():
    for table, name, columns, options in INDEXES:
        op.create_index(name, table, columns, unique=False, **options)


def downgrade():
    for table, name, _columns, _options in reversed(INDEXES):
        op.drop_index(name, table_name=table)
