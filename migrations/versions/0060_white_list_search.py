"""white-list search: a character index for 1-2 character names, the shown licence on the
white-list row, a partial index of the open intervals

Revision ID: 0060
Revises: 0050
Create Date: 2026-11-23 17:40:00
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

revision = '0060'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('whitelist_intervals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_number', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('licence_expires_on', sa.Date(), nullable=True))
    # the licence the white list shows: the active one that runs longest (lowest id on a tie)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    shown = ("SELECT {col} FROM licences l WHERE l.institution_id = "
             "whitelist_intervals.institution_id AND l.state = 'active' AND l.expires_on >= "
             ":today ORDER BY l.expires_on DESC, l.id LIMIT 1")
    op.get_bind().execute(sa.text(
        f"UPDATE whitelist_intervals SET licence_number = ({shown.format(col='number')}), "
        f"licence_expires_on = ({shown.format(col='expires_on')}) WHERE listed_until IS NULL"),
        {"today": today})
    op.create_index("ix_whitelist_intervals_listed", "whitelist_intervals", ["institution_id"],
                    postgresql_where=sa.text("listed_until IS NULL"),
                    sqlite_where=sa.text("listed_until IS NULL"),
                    postgresql_include=["licensed_until", "licence_number",
                                        "licence_expires_on"])
    if postgres:
        # pg_trgm has no trigram in a 1-2 character pattern: `name LIKE '%艺术%'` alone can
        # only walk or scan. An index of each name's characters finds the names holding all of
        # the pattern's characters (the LIKE then keeps those that hold them in order);
        # string_to_array(name, NULL) is built in, so a filter that evaluates it stays cheap.
        # (SQLite has neither GIN nor arrays; its LIKE scans, as it did.)
        op.execute("CREATE INDEX ix_institutions_name_chars ON institutions "
                   "USING gin (string_to_array(name, NULL))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_institutions_name_chars", table_name="institutions")
    op.drop_index("ix_whitelist_intervals_listed", table_name="whitelist_intervals")
    with op.batch_alter_table('whitelist_intervals', schema=None) as batch_op:
        batch_op.drop_column('licence_expires_on')
        batch_op.drop_column('licence_number')
