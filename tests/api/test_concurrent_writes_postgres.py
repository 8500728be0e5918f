"""Concurrent audited writes to one institution on PostgreSQL: both land, neither deadlocks."""

import threading

import pytest

from registry.db import db
from registry.staff.models import Staff
from tests import factories

pytestmark = pytest.mark.postgres(reason="row locks and deadlocks need PostgreSQL")



def test_adding_a_teacher_and_filing_a_course_at_once_both_succeed(app):
    """Each write inserts a row referencing the institution (a KEY SHARE lock on it), takes the
    audit chain's lock, then locks the institution to re-judge it. A FOR UPDATE there waits on
    the other's KEY SHARE while the other waits on the audit lock: a deadlock."""
    inst = factories.institution()
    inst_id = inst.id
    rounds, errors = 4, []

    def run(job, barrier):
        try:
            with app.app_context():
                barrier.wait(30)
                job(db.session.get(type(inst), inst_id))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            with app.app_context():
                db.session.remove()

    for _ in range(rounds):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=run, args=(job, barrier))
                   for job in (factories.staff, factories.course)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    db.session.remove()
    assert db.session.query(Staff).filter_by(institution_id=inst_id).count() == rounds
