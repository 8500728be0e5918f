"""staff courses sessions calendar breach events

Revision ID: 0010
Revises: 0002
Create Date: 2026-11-23 15:19:00.790136
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401

import registry.db  # noqa: F401
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=True),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('vacations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vacations'))
    )
    with op.batch_alter_table('vacations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vacations_region_code'), ['region_code'], unique=False)

    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('lesson_minutes', sa.Integer(), nullable=False),
    sa.Column('price_per_lesson', sa.BigInteger(), nullable=False),
    sa.Column('class_size', sa.String(length=10), nullable=False),
    sa.Column('lessons_total', sa.Integer(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_courses_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_stale'), ['stale'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_encrypted', sa.Text(), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('teacher_cert_no', sa.String(length=17), nullable=True),
    sa.Column('subjects', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('in_service_school_teacher', sa.Boolean(), nullable=False),
    sa.Column('nationality', sa.String(length=2), nullable=False),
    sa.Column('located_abroad', sa.Boolean(), nullable=False),
    sa.Column('full_time', sa.Boolean(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_staff_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('institution_id', 'id_number_index', name=op.f('uq_staff_institution_id'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_id_number_index'), ['id_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_region_code'), ['region_code'], unique=False)

    op.create_table('breach_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('breach_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['breach_id'], ['breaches.id'], name=op.f('fk_breach_events_breach_id_breaches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_events'))
    )
    with op.batch_alter_table('breach_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_events_breach_id'), ['breach_id'], unique=False)

    op.create_table('course_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_sessions_course_id_courses')),
    sa.ForeignKeyConstraint(['teacher_id'], ['staff.id'], name=op.f('fk_course_sessions_teacher_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_sessions'))
    )
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_course_sessions_course_start', ['course_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_sessions_teacher_id'), ['teacher_id'], unique=False)



def downgrade():
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_sessions_teacher_id'))
        batch_op.drop_index('ix_course_sessions_course_start')

    op.drop_table('course_sessions')
    with op.batch_alter_table('breach_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_events_breach_id'))

    op.drop_table('breach_events')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_region_code'))
        batch_op.drop_index(batch_op.f('ix_staff_institution_id'))
        batch_op.drop_index(batch_op.f('ix_staff_id_number_index'))

    op.drop_table('staff')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_stale'))
        batch_op.drop_index(batch_op.f('ix_courses_region_code'))
        batch_op.drop_index(batch_op.f('ix_courses_institution_id'))

    op.drop_table('courses')
    with op.batch_alter_table('vacations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vacations_region_code'))

    op.drop_table('vacations')
    op.drop_table('calendar_days')
