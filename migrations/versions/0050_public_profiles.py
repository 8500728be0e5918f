"""public profiles stored as served

Revision ID: 0050
Revises: 0040
Create Date: 2026-11-23 17:50:00.000000
"""
from alembic import op
import sqlalchemy as sa

import registry.db  # noqa: F401

revision = '0050'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('public_profiles',
    sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=32), nullable=False),
    sa.Column('built_on', sa.Date(), nullable=False),
    sa.Column('fresh_until', sa.Date(), nullable=True),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_public_profiles_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_public_profiles')),
    sa.UniqueConstraint('uscc', name=op.f('uq_public_profiles_uscc'))
    )
    with op.batch_alter_table('public_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_profiles_fresh_until'), ['fresh_until'], unique=False)


def downgrade():
    with op.batch_alter_table('public_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_profiles_fresh_until'))
    op.drop_table('public_profiles')
