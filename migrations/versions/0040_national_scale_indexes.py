"""national-scale indexes: trigram name search, region prefixes, alert and breach feeds

Revision ID: 0040
Revises: 0030
Create Date: 2026-11-23 15:20:00
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = '0040'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # `name LIKE '%q%'` (institutions search, the public white list) is served by a GIN
        # trigram index; pg_trgm splits Chinese text into trigrams too (UTF-8 database).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_institutions_name_trgm", "institutions", ["name"],
                        postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"})
    else:
        # SQLite has no trigram index: a plain one, so the schema matches the models.
        op.create_index("ix_institutions_name_trgm", "institutions", ["name"])
    # region scopes (LIKE '3301%') need pattern ops unless the database collation is "C"
    op.create_index("ix_institutions_region_prefix", "institutions", ["region_code"],
                    postgresql_ops={"region_code": "varchar_pattern_ops"})
    op.create_index("ix_breaches_region_prefix", "breaches", ["region_code"],
                    postgresql_ops={"region_code": "varchar_pattern_ops"})
    op.create_index("ix_escrow_alerts_bank_feed", "escrow_alerts", ["bank_code", "id"])
    op.create_index("ix_breaches_status_feed", "breaches", ["status", "id"])


def downgrade():
    for name, table in (("ix_breaches_status_feed", "breaches"),
                        ("ix_escrow_alerts_bank_feed", "escrow_alerts"),
                        ("ix_breaches_region_prefix", "breaches"),
                        ("ix_institutions_region_prefix", "institutions"),
                        ("ix_institutions_name_trgm", "institutions")):
        op.drop_index(name, table_name=table)
