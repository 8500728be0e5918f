"""The public search, the alert feed and the breach list are served by their indexes.

PostgreSQL only (the plans are PostgreSQL's). Tables this small would be scanned whole by a
sane planner, so sequential scans are switched off for the EXPLAIN: what is checked is that the
index the query needs exists and fits the query, not how fast it is.
"""

import pytest
import sqlalchemy as sa

from registry import access, audit
from registry.db import db, is_postgres
from registry.escrow import accounts
from registry.escrow.models import Alert
from registry.lists import whitelist
from registry.rules import breaches, engine
from seed import national


@pytest.fixture
def plans(app):
    if not is_postgres():
        pytest.skip("query plans are checked on PostgreSQL (set TEST_DATABASE_URL)")
    with audit.acting_as(access.SYSTEM):
        national.generate(0.002, seed=11)
        engine.rescan(commit=False)
    db.session.execute(sa.text("ANALYZE"))
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))

    def explain(stmt) -> str:
        compiled = stmt.compile(db.engine)
        rows = db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        return "\n".join(r[0] for r in rows)

    return explain


def test_public_name_search_uses_the_trigram_index(plans):
    name = db.session.scalar(sa.select(sa.text("name FROM institutions LIMIT 1")))
    search = whitelist.search(q=name[-5:])
    # at 400 rows a plain index scan of the whole table is cheaper; leave only bitmap scans,
    # which the planner picks on its own at national scale (see docs/benchmarks.md)
    db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
    # the page's total (what `paginate` counts) finds the matches through the trigram index
    total = sa.select(sa.func.count()).select_from(search.order_by(None).subquery())
    assert "ix_institutions_name_trgm" in plans(total)


def test_a_two_character_name_search_uses_the_character_index(plans):
    # pg_trgm has no trigram in a 2-character word: the character index finds the names for
    # the page and for its bounded count, unless the word is broad (below)
    whitelist._sample["at"] = -whitelist.SAMPLE_SECONDS  # this database's statistics
    names = db.session.scalars(sa.text("SELECT name FROM institutions ORDER BY id")).all()
    word = next(w for n in names for w in (n[i:i + 2] for i in range(len(n) - 1))
                if not whitelist.is_broad(w))
    db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
    search = whitelist.search(q=word)
    assert "ix_institutions_name_chars" in plans(search.limit(50))
    count = sa.select(sa.func.count()).select_from(
        search.with_only_columns(sa.literal(1)).order_by(None).limit(1001).subquery())
    assert "ix_institutions_name_chars" in plans(count)
    char = next(c for n in names for c in n if not whitelist.is_broad(c))
    assert "ix_institutions_name_chars" in plans(whitelist.search(q=char).limit(50))


def test_a_broad_two_character_search_walks_the_names_in_order(plans):
    whitelist._sample["at"] = -whitelist.SAMPLE_SECONDS
    assert whitelist.is_broad("培训")  # in about half the generated names
    plan = plans(whitelist.search(q="培训").limit(50))
    assert "ix_institutions_name_chars" not in plan and "ix_institutions_name " in plan


def test_a_banks_alert_feed_uses_the_bank_feed_index(plans):
    bank = access.Principal("bank", "bank", bank_code="102")
    stmt = accounts._scoped(sa.select(Alert), bank, Alert).where(Alert.id > 0)
    plan = plans(stmt.order_by(Alert.id).limit(50))
    assert "ix_escrow_alerts_bank_feed" in plan


def test_the_breach_list_by_status_uses_a_status_index(plans):
    assert db.session.scalar(sa.text("SELECT count(*) FROM breaches")) > 0
    db.session.execute(sa.text("UPDATE breaches SET status = 'confirmed' WHERE id % 40 = 0"))
    db.session.execute(sa.text("ANALYZE breaches"))
    plan = plans(breaches.query(access.SYSTEM, status="confirmed").limit(50))
    assert "ix_breaches_status" in plan  # _feed (status, id) once the rows are many


def test_a_supervisors_breach_list_uses_the_region_prefix_index(plans):
    supervisor = access.Principal("s", "supervisor", region_code="330100")
    plan = plans(breaches.query(supervisor).limit(50))
    assert "ix_breaches_region_prefix" in plan or "pk_breaches" in plan
