"""in-app notifications and user email

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 04:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db.types
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
