"""Stored public profiles under concurrency, on PostgreSQL: two writers, one body with both."""

import threading

import pytest

from registry import access, audit
from registry.db import db
from registry.escrow.models import Bank
from registry.institutions.models import Institution
from registry.lists import profiles, public
from registry.lists.profiles import PublicProfile
from tests import factories

pytestmark = pytest.mark.postgres(reason="row locks and commit order need PostgreSQL")



def _together(app, *jobs):
    """Each job changes and flushes in its own session, then all commit at the same moment."""
    barrier, errors = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            with app.app_context():
                job()
                db.session.flush()
                barrier.wait(30)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _body(inst_id: int) -> dict:
    import json

    db.session.remove()
    return json.loads(db.session.get(PublicProfile, inst_id).body)


def test_two_writers_to_one_institution_leave_a_body_with_both_changes(app):
    """Neither write is audited, so only the profile rebuild's own lock orders them."""
    from registry.escrow import pull

    inst = factories.institution()
    factories.escrow_account(inst, bank="BOC")
    with audit.acting_as(access.SYSTEM):
        pull.add_bank("BOC", "中国银行")
        db.session.commit()
    inst_id = inst.id
    for round_ in range(6):
        address, bank = f"文三路{round_}号", f"中国银行{round_}"

        def move(address=address):
            db.session.get(Institution, inst_id).address = address

        def rename(bank=bank):
            db.session.get(Bank, "BOC").name = bank

        _together(app, move, rename)
        body = _body(inst_id)
        assert (body["address"], body["custody"]["bank_name"]) == (address, bank)
        assert profiles.render(public.profile(inst.uscc)) == db.session.get(
            PublicProfile, inst_id).body
