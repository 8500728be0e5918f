"""Indexes for reads at national scale, declared beside the models they serve.

An `sa.Index` built from columns attaches itself to their table, so these are part of the
metadata (and of the models == migrations check) without editing each area's models.
Migration 0040 creates them. `varchar_pattern_ops` lets a btree serve `LIKE '3301%'` (region
scopes) on PostgreSQL, whose database collation here is not "C"; SQLite gets plain indexes.
"""

import sqlalchemy as sa

from registry.escrow.models import Alert
from registry.institutions.models import Institution
from registry.rules.models import Breach

INDEXES = (
    # the alert feed of a bank: WHERE bank_code = ? AND id > ? ORDER BY id LIMIT n
    sa.Index("ix_escrow_alerts_bank_feed", Alert.bank_code, Alert.id),
    # the breach list: WHERE status = ? ORDER BY id DESC LIMIT n
    sa.Index("ix_breaches_status_feed", Breach.status, Breach.id),
    # region scopes and the region filter: region_code LIKE '3301%'
    sa.Index("ix_institutions_region_prefix", Institution.region_code,
             postgresql_ops={"region_code": "varchar_pattern_ops"}),
    sa.Index("ix_breaches_region_prefix", Breach.region_code,
             postgresql_ops={"region_code": "varchar_pattern_ops"}),
)
