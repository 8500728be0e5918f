"""rule catalogue and breaches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:07:43.617864
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401

import registry.db  # noqa: F401
from datetime import UTC, datetime
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

RULES = [
    # code, group, severity, title, description, params
    ("OFFLINE_ENDS_AFTER_2030", "time", "high", "线下培训结束时间晚于20:30",
     "An offline lesson must end no later than 20:30 (China Standard Time).",
     {"latest_end": "20:30"}),
    ("ONLINE_ENDS_AFTER_2100", "time", "high", "线上培训结束时间晚于21:00",
     "An online lesson must end no later than 21:00 (China Standard Time).",
     {"latest_end": "21:00"}),
    ("ONLINE_LESSON_OVER_30_MIN", "time", "medium", "线上培训每课时超过30分钟",
     "One online lesson lasts at most 30 minutes.", {"max_minutes": 30}),
    ("ONLINE_BREAK_UNDER_10_MIN", "time", "medium", "线上培训课间休息不足10分钟",
     "At least 10 minutes between two online lessons of the same course or the same teacher.",
     {"min_break_minutes": 10}),
    ("SUBJECT_ON_HOLIDAY", "calendar", "high", "法定节假日开展学科类培训",
     "No subject-based training for the compulsory stage on statutory holidays.", {}),
    ("SUBJECT_ON_REST_DAY", "calendar", "high", "休息日开展学科类培训",
     "No subject-based training for the compulsory stage on rest days (weekends that are not "
     "make-up working days).", {"makeup_saturday_is_rest_day": False}),
    ("SUBJECT_IN_VACATION", "calendar", "high", "寒暑假开展学科类培训",
     "No subject-based training for the compulsory stage in winter or summer vacation.", {}),
    ("PRESCHOOL_ONLINE", "preschool", "high", "对学龄前儿童开展线上培训",
     "No online training of any kind for preschool children.", {}),
    ("PRESCHOOL_SUBJECT", "preschool", "high", "对学龄前儿童开展学科类培训",
     "No subject-based training (foreign languages included) for preschool children.", {}),
    ("SUBJECT_NOT_NONPROFIT", "institution", "high", "学科类机构未登记为非营利性",
     "Subject-based institutions for the compulsory stage must be non-profit.", {}),
    ("NO_ACTIVE_LICENCE", "licence", "critical", "无有效办学许可证开展培训",
     "Training needs a licence valid on the date of the lesson.", {}),
    ("LICENCE_DELIVERY_MISMATCH", "licence", "high", "培训形式与许可证不符",
     "A licence for one delivery mode does not permit the other.", {}),
    ("NON_SUBJECT_INSTITUTION_SUBJECT_COURSE", "institution", "high",
     "非学科类机构开展学科类培训", "A non-subject institution may not run subject courses.", {}),
    ("TEACHER_UNQUALIFIED", "staff", "high", "学科类培训教师无教师资格证",
     "Whoever teaches subject-based lessons must hold a teacher qualification certificate.", {}),
    ("TEACHER_IN_SERVICE", "staff", "high", "中小学在职教师在校外培训机构任教",
     "Serving primary/secondary school or kindergarten teachers may not teach at institutions.",
     {}),
    ("TEACHER_FOREIGN_ABROAD", "staff", "high", "聘请境外外籍人员开展培训",
     "Foreigners located outside China may not be engaged.", {}),
    ("STAFF_FULL_TIME_RATIO", "staff", "medium", "专职教学人员比例不足",
     "Full-time teaching staff must be at least the set share of all staff.",
     {"min_percent": 50}),
    ("PRICE_ABOVE_GUIDANCE", "price", "medium", "收费超过政府指导价",
     "Subject-based prices for the compulsory stage may be at most the set markup above the "
     "guidance base price for the class-size band, pro rata to the lesson length.",
     {"offline_base": {"small": "80.00", "medium": "60.00", "large": "40.00"},
      "online_base": "20.00", "max_markup_percent": 10,
      "standard_minutes": {"offline": 45, "online": 30}}),
    ("NO_ESCROW_ACCOUNT", "prepaid", "critical", "预收费未纳入资金监管",
     "Prepaid fees must go into a custody account or be covered by a risk deposit.", {}),
    ("PREPAID_OVER_3_MONTHS", "prepaid", "high", "一次性收费超过3个月",
     "One payment may not cover more than 3 months.", {"max_months": 3}),
    ("PREPAID_OVER_60_LESSONS", "prepaid", "high", "一次性收费超过60课时",
     "One payment may not cover more than 60 lessons.", {"max_lessons": 60}),
    ("PREPAID_OVER_5000", "prepaid", "high", "一次性收费超过5000元",
     "One payment for non-subject training may not exceed 5,000 yuan (several regions apply "
     "it to all training).", {"max_amount": "5000.00", "applies_to": "non_subject"}),
    ("BALANCE_BELOW_MINIMUM", "escrow", "high", "监管账户余额低于最低留存",
     "The custody balance fell below the account's minimum balance.", {}),
    ("LARGE_OUTFLOW", "escrow", "high", "监管账户单笔大额支出",
     "A single outflow at or above the large-outflow threshold.",
     {"threshold": "50000.00"}),
    ("RAPID_DRAIN", "escrow", "critical", "监管资金快速流出",
     "Outflows within the rolling window exceed the set share of the balance at its start.",
     {"window_hours": 72, "max_share_percent": 30}),
    ("BALANCE_MISMATCH", "escrow", "high", "银行余额与流水不符",
     "The bank's balance does not match the sum of its own transactions.", {}),
    ("PREPAID_OVER_CAP", "escrow", "high", "预收费超过上限",
     "A prepaid income covers more than the caps allow.", {}),
    ("OUTFLOW_WHILE_BLACKLISTED", "escrow", "critical", "黑名单机构资金流出",
     "Money other than a refund leaves the custody account of a blacklisted institution.", {}),
]

# Local numbers that differ from the national defaults.
OVERRIDES = [
    ("PREPAID_OVER_5000", "110000", {"applies_to": "all"}),
    ("PREPAID_OVER_5000", "310000", {"applies_to": "all"}),
]


def _seed():
    rules = sa.table("rules", sa.column("code", sa.String), sa.column("group", sa.String),
                     sa.column("severity", sa.String), sa.column("title", sa.String),
                     sa.column("description", sa.Text), sa.column("params", sa.JSON),
                     sa.column("enabled", sa.Boolean), sa.column("updated_at", sa.DateTime))
    overrides = sa.table("rule_overrides", sa.column("rule_code", sa.String),
                         sa.column("region_code", sa.String), sa.column("params", sa.JSON),
                         sa.column("updated_at", sa.DateTime))
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(rules, [
        {"code": c, "group": g, "severity": s, "title": t, "description": d, "params": p,
         "enabled": True, "updated_at": now} for c, g, s, t, d, p in RULES])
    op.bulk_insert(overrides, [
        {"rule_code": c, "region_code": r, "params": p, "updated_at": now}
        for c, r, p in OVERRIDES])


def upgrade():
    op.create_table('rules',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('group', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_rules'))
    )
    op.create_table('breaches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('detected_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_breaches_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breaches')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_breaches_dedupe_key'))
    )
    with op.batch_alter_table('breaches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breaches_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breaches_status'), ['status'], unique=False)

    op.create_table('rule_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_code', sa.String(length=60), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=True),
    sa.Column('updated_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rule_code'], ['rules.code'], name=op.f('fk_rule_overrides_rule_code_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_overrides')),
    sa.UniqueConstraint('rule_code', 'region_code', name=op.f('uq_rule_overrides_rule_code'))
    )
    with op.batch_alter_table('rule_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_overrides_rule_code'), ['rule_code'], unique=False)

    _seed()


def downgrade():
    with op.batch_alter_table('rule_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_overrides_rule_code'))

    op.drop_table('rule_overrides')
    with op.batch_alter_table('breaches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breaches_status'))
        batch_op.drop_index(batch_op.f('ix_breaches_staff_id'))
        batch_op.drop_index(batch_op.f('ix_breaches_session_id'))
        batch_op.drop_index(batch_op.f('ix_breaches_rule'))
        batch_op.drop_index(batch_op.f('ix_breaches_region_code'))
        batch_op.drop_index(batch_op.f('ix_breaches_institution_id'))
        batch_op.drop_index(batch_op.f('ix_breaches_course_id'))
        batch_op.drop_index(batch_op.f('ix_breaches_account_id'))

    op.drop_table('breaches')
    op.drop_table('rules')
