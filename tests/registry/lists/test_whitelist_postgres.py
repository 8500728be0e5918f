"""The white list under concurrency, on PostgreSQL: never two open intervals."""

import threading
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from registry import clock
from registry.db import db
from registry.institutions.models import Institution
from registry.lists import whitelist
from registry.lists.models import WhitelistInterval
from tests import factories

pytestmark = pytest.mark.postgres(reason="row locks need PostgreSQL")



def test_concurrent_recomputes_open_one_interval(app):
    clock.freeze(datetime(2026, 9, 1, 10, tzinfo=clock.CST))
    inst = factories.institution()
    factories.licence(inst, issued_on=date(2026, 9, 2), expires_on=date(2028, 9, 1))
    clock.freeze(datetime(2026, 9, 2, 10, tzinfo=clock.CST))  # the term starts: two recomputes
    inst_id, barrier, errors = inst.id, threading.Barrier(4), []

    def job():
        try:
            with app.app_context():
                barrier.wait(30)
                whitelist.recompute(db.session.get(Institution, inst_id), "race")
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    opened = db.session.scalar(sa.select(sa.func.count()).select_from(WhitelistInterval).where(
        WhitelistInterval.institution_id == inst_id))
    assert opened == 1
