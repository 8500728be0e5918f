"""ledger rows without a per-row account check

Revision ID: 0070
Revises: 0040
Create Date: 2026-11-23 18:10:00

The foreign key from escrow_transactions.account_id to escrow_accounts fires a trigger for
every inserted movement (a lookup and a KEY SHARE lock of the account row, the same row each
time): on PostgreSQL 15 it was the largest single cost of storing a statement, about 5 µs of
server CPU per row, more than the three indexes together. The ledger writes movements only
for the account it holds locked (FOR NO KEY UPDATE, to commit) in the same transaction, and
accounts are never deleted, so the check cannot fail; the account_id index stays.
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = '0070'
down_revision = '0040'
branch_labels = None
depends_on = None

FK = "fk_escrow_transactions_account_id_escrow_accounts"


def upgrade():
    with op.batch_alter_table("escrow_transactions", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")


def downgrade():
    with op.batch_alter_table("escrow_transactions", schema=None) as batch_op:
        batch_op.create_foreign_key(FK, "escrow_accounts", ["account_id"], ["id"])
