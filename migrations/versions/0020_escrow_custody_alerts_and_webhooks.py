"""escrow custody, alerts and webhooks

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-23 15:16:20.460239
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401

import registry.db  # noqa: F401
from sqlalchemy.dialects import postgresql

revision = '0020'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('escrow_banks',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('statement_url', sa.String(length=500), nullable=True),
    sa.Column('auth_token', sa.Text(), nullable=True),
    sa.Column('pull_cursor', sa.String(length=200), nullable=True),
    sa.Column('pulled_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_escrow_banks'))
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('bank_code', sa.String(length=40), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_owner'), ['owner'], unique=False)

    op.create_table('escrow_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('bank_code', sa.String(length=40), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('min_balance', sa.BigInteger(), nullable=False),
    sa.Column('large_outflow_threshold', sa.BigInteger(), nullable=True),
    sa.Column('rapid_drain_window_hours', sa.Integer(), nullable=True),
    sa.Column('rapid_drain_max_share_percent', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('balance_as_of', registry.db.UTCDateTime(), nullable=True),
    sa.Column('txn_count', sa.BigInteger(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_escrow_accounts_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_accounts')),
    sa.UniqueConstraint('bank_code', 'account_number', name='uq_escrow_accounts_bank_number')
    )
    with op.batch_alter_table('escrow_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escrow_accounts_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_accounts_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_accounts_region_code'), ['region_code'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('lease_until', registry.db.UTCDateTime(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', registry.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('event_id', name=op.f('uq_webhook_deliveries_event_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('escrow_alert_states',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('changed_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['escrow_accounts.id'], name=op.f('fk_escrow_alert_states_account_id_escrow_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'kind', name=op.f('pk_escrow_alert_states'))
    )
    op.create_table('escrow_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('bank_code', sa.String(length=40), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('acknowledged_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['escrow_accounts.id'], name=op.f('fk_escrow_alerts_account_id_escrow_accounts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_escrow_alerts_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_alerts'))
    )
    with op.batch_alter_table('escrow_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escrow_alerts_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_alerts_bank_code'), ['bank_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_alerts_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_alerts_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_alerts_region_code'), ['region_code'], unique=False)

    op.create_table('escrow_transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sa.String(length=40), nullable=False),
    sa.Column('bank_txn_id', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('delta', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=True),
    sa.Column('student_ref', sa.String(length=64), nullable=True),
    sa.Column('covers_lessons', sa.Integer(), nullable=True),
    sa.Column('covers_until', sa.Date(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('received_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['escrow_accounts.id'], name=op.f('fk_escrow_transactions_account_id_escrow_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_transactions')),
    sa.UniqueConstraint('bank_code', 'bank_txn_id', name='uq_escrow_transactions_bank_txn')
    )
    with op.batch_alter_table('escrow_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_escrow_transactions_account_time', ['account_id', 'occurred_at'], unique=False)



def downgrade():
    with op.batch_alter_table('escrow_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_escrow_transactions_account_time')

    op.drop_table('escrow_transactions')
    with op.batch_alter_table('escrow_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escrow_alerts_region_code'))
        batch_op.drop_index(batch_op.f('ix_escrow_alerts_kind'))
        batch_op.drop_index(batch_op.f('ix_escrow_alerts_institution_id'))
        batch_op.drop_index(batch_op.f('ix_escrow_alerts_bank_code'))
        batch_op.drop_index(batch_op.f('ix_escrow_alerts_account_id'))

    op.drop_table('escrow_alerts')
    op.drop_table('escrow_alert_states')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_subscription_id'))
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('escrow_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escrow_accounts_region_code'))
        batch_op.drop_index(batch_op.f('ix_escrow_accounts_institution_id'))
        batch_op.drop_index(batch_op.f('ix_escrow_accounts_bank_code'))

    op.drop_table('escrow_accounts')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_owner'))

    op.drop_table('webhook_subscriptions')
    op.drop_table('escrow_banks')
