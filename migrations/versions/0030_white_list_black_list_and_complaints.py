"""white list, black list and complaints

Revision ID: 0030
Revises: 0020
Create Date: 2026-11-23 15:14:20.283313
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401

import registry.db  # noqa: F401
from sqlalchemy.dialects import postgresql

revision = '0030'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('blacklist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_blacklist_entries_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_entries'))
    )
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blacklist_entries_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_blacklist_entries_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_blacklist_entries_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_blacklist_entries_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_blacklist_entries_uscc'), ['uscc'], unique=False)

    op.create_table('whitelist_intervals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('listed_from', registry.db.UTCDateTime(), nullable=False),
    sa.Column('listed_until', registry.db.UTCDateTime(), nullable=True),
    sa.Column('licensed_until', sa.Date(), nullable=False),
    sa.Column('opened_by', sa.String(length=60), nullable=False),
    sa.Column('closed_by', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_whitelist_intervals_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whitelist_intervals'))
    )
    with op.batch_alter_table('whitelist_intervals', schema=None) as batch_op:
        batch_op.create_index('ix_whitelist_intervals_institution', ['institution_id', 'listed_from'], unique=False)
        batch_op.create_index('ix_whitelist_intervals_open', ['listed_until', 'institution_id'], unique=False)

    op.create_table('blacklist_lifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['blacklist_entries.id'], name=op.f('fk_blacklist_lifts_entry_id_blacklist_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_lifts')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_blacklist_lifts_entry_id'))
    )
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('institution_name', sa.String(length=200), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('contact_enc', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('breach_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('blacklist_entry_id', sa.Integer(), nullable=True),
    sa.Column('received_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['blacklist_entry_id'], ['blacklist_entries.id'], name=op.f('fk_complaints_blacklist_entry_id_blacklist_entries')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_complaints_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('reference', name=op.f('uq_complaints_reference'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_blacklist_entry_id'), ['blacklist_entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_status'))
        batch_op.drop_index(batch_op.f('ix_complaints_region_code'))
        batch_op.drop_index(batch_op.f('ix_complaints_institution_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_blacklist_entry_id'))

    op.drop_table('complaints')
    op.drop_table('blacklist_lifts')
    with op.batch_alter_table('whitelist_intervals', schema=None) as batch_op:
        batch_op.drop_index('ix_whitelist_intervals_open')
        batch_op.drop_index('ix_whitelist_intervals_institution')

    op.drop_table('whitelist_intervals')
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_uscc'))
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_region_code'))
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_name'))
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_institution_id'))
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_decided_at'))

    op.drop_table('blacklist_entries')
