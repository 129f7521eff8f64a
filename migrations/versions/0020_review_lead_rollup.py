"""review lead rollup: pre-aggregated review times, and a by-region index for monthly applications

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-22 09:00:00.000000

The dashboard's review-time section read every completed review of its period (a province's year is
hundreds of thousands of tasks); it now reads review_lead_rollup, counted per region, China-time month
and lead time in tenths of a day, filled here from the existing tasks. The monthly applications of a
city or county read the province's range of the (process_key, started_at) index; the new index starts
at the region.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_BACKFILL = {
    "postgresql": """
        INSERT INTO review_lead_rollup (region_code, month, lead_tenths, city_code, province_code,
                                        reviews, on_time, lead_days)
        SELECT region_code, month, tenths, max(city_code), max(province_code), count(*),
               sum(CASE WHEN due_at IS NOT NULL AND completed_at <= due_at THEN 1 ELSE 0 END), sum(lead)
        FROM (SELECT *, date_trunc('month', timezone('Asia/Shanghai', completed_at))::date AS month,
                     date_part('epoch', completed_at - created_at) / 86400.0 AS lead,
                     floor(date_part('epoch', completed_at - created_at) / 8640.0)::integer AS tenths
              FROM human_task
              WHERE status = 'completed' AND role = 'regulator' AND region_code IS NOT NULL
                AND completed_at IS NOT NULL) AS reviews
        GROUP BY region_code, month, tenths""",
    "sqlite": """
        INSERT INTO review_lead_rollup (region_code, month, lead_tenths, city_code, province_code,
                                        reviews, on_time, lead_days)
        SELECT region_code, month, tenths, max(city_code), max(province_code), count(*),
               sum(CASE WHEN due_at IS NOT NULL AND completed_at <= due_at THEN 1 ELSE 0 END), sum(lead)
        FROM (SELECT *, date(completed_at, '+8 hours', 'start of month') AS month,
                     julianday(completed_at) - julianday(created_at) AS lead,
                     CAST(floor((julianday(completed_at) - julianday(created_at)) * 10) AS INTEGER) AS tenths
              FROM human_task
              WHERE status = 'completed' AND role = 'regulator' AND region_code IS NOT NULL
                AND completed_at IS NOT NULL) AS reviews
        GROUP BY region_code, month, tenths""",
}


_INCLUDE = ['city_code', 'province_code', 'region_code', 'created_at', 'due_at']
REVIEWS_DONE = sa.text("status = 'completed' AND role = 'regulator'")


def _reviews_done_index(include):
    op.drop_index('ix_human_task_reviews_done', table_name='human_task')
    op.create_index('ix_human_task_reviews_done', 'human_task', ['completed_at'], unique=False,
                    postgresql_include=include, postgresql_where=REVIEWS_DONE, sqlite_where=REVIEWS_DONE)


def upgrade():
    op.create_table(
        'review_lead_rollup',
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('lead_tenths', sa.Integer(), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=True),
        sa.Column('province_code', sa.String(length=6), nullable=True),
        sa.Column('reviews', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('lead_days', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('region_code', 'month', 'lead_tenths'),
    )
    op.create_index('ix_review_lead_rollup_month', 'review_lead_rollup', ['month'], unique=False)
    op.create_index('ix_review_lead_rollup_city', 'review_lead_rollup', ['city_code', 'month'], unique=False)
    op.create_index('ix_process_instance_region_statistics', 'process_instance',
                    ['region_code', 'process_key', 'started_at'], unique=False)
    op.execute(_BACKFILL[op.get_bind().dialect.name])
    if op.get_bind().dialect.name == "postgresql":
        _reviews_done_index(_INCLUDE + ['process_key'])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _reviews_done_index(_INCLUDE)
    op.drop_index('ix_process_instance_region_statistics', table_name='process_instance')
    op.drop_index('ix_review_lead_rollup_city', table_name='review_lead_rollup')
    op.drop_index('ix_review_lead_rollup_month', table_name='review_lead_rollup')
    op.drop_table('review_lead_rollup')
