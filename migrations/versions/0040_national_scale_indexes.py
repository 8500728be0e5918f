"""national-scale indexes: trigram name search (PostgreSQL)

Revision ID: 0040
Revises: 0002
Create Date: 2026-11-23 15:20:00
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = '0040'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # `name LIKE '%q%'` (institutions search, the public white list) is served by a GIN
        # trigram index; pg_trgm splits Chinese text into trigrams too (UTF-8 database).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_institutions_name_trgm", "institutions", ["name"],
                        postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"})
    else:
        # SQLite has no trigram index: a plain one, so the schema matches the models.
        op.create_index("ix_institutions_name_trgm", "institutions", ["name"])


def downgrade():
    op.drop_index("ix_institutions_name_trgm", table_name="institutions")
