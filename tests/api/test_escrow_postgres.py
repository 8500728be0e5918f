"""Custody under concurrency, on PostgreSQL: no lost update, no missed or repeated alert."""

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from registry import clock
from registry.db import db
from registry.escrow.models import Alert, EscrowAccount, EscrowTransaction
from tests import factories
from tests.factories import txn

pytestmark = pytest.mark.postgres(reason="row locks and commit order need PostgreSQL")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=clock.CST)



def _run_together(*jobs):
    """Start the jobs at the same moment in threads; re-raise the first failure."""
    barrier, errors = threading.Barrier(len(jobs)), []

    def wrap(job):
        try:
            barrier.wait(30)
            job()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _line(i):
    kind = "release" if i % 5 == 4 else "prepaid_income"
    return txn(f"t{i:05d}", kind, f"{(i % 7) + 1}.{i % 100:02d}",
               at=T0 + timedelta(seconds=i))


def test_two_pushers_with_overlapping_batches_end_with_the_exact_balance(app):
    account = factories.escrow_account()
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    number = account.account_number
    lines = [_line(i) for i in range(1200)]
    expected = sum((-1 if ln["kind"] == "release" else 1)
                   * int(ln["amount"].replace(".", "")) for ln in lines)

    def pusher(order):
        client = app.test_client()
        for start in order:
            r = client.post("/api/v1/escrow/statements", headers=bank, json={
                "account_number": number, "transactions": lines[start:start + 300]})
            assert r.status_code == 200, r.json

    _run_together(lambda: pusher([0, 150, 300, 450, 600, 750, 900]),
                  lambda: pusher([900, 750, 600, 450, 300, 150, 0]))
    db.session.remove()
    assert db.session.get(EscrowAccount, account.id).balance == expected
    assert db.session.get(EscrowAccount, account.id).txn_count == 1200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 1200


def test_feed_paged_while_alerts_are_written_neither_misses_nor_repeats(app):
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    accounts = [factories.escrow_account(min_balance=100_000).account_number for _ in range(4)]
    done = threading.Event()
    seen: list[int] = []

    def writer(number):
        client = app.test_client()
        for i in range(12):  # every batch dips below the minimum and climbs back
            at = T0 + timedelta(hours=i)
            r = client.post("/api/v1/escrow/statements", headers=bank, json={
                "account_number": number, "transactions": [
                    txn(f"{number}-in{i}", amount="1.00", at=at),
                    txn(f"{number}-top{i}", amount="5000.00", at=at + timedelta(minutes=1)),
                    txn(f"{number}-out{i}", "release", "5000.00",
                        at=at + timedelta(minutes=2))]})
            assert r.status_code == 200, r.json

    def reader():
        client, after = app.test_client(), 0
        while True:
            finished = done.is_set()
            r = client.get(f"/api/v1/escrow/alerts?after={after}&limit=5", headers=bank)
            seen.extend(a["id"] for a in r.json["items"])
            after = r.json["next_after"] or after
            if finished and not r.json["items"]:
                return

    def writers():
        try:
            _run_together(*[lambda a=a: writer(a) for a in accounts])
        finally:
            done.set()

    _run_together(writers, reader)
    db.session.remove()
    stored = db.session.scalars(sa.select(Alert.id).order_by(Alert.id)).all()
    assert len(stored) >= 4 * 12
    assert seen == stored  # every alert once, in order


def test_a_value_postgresql_cannot_store_is_a_422_and_nothing_is_stored(app):
    account = factories.escrow_account()
    account_id = account.id
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    client = app.test_client()
    for field in ("bank_txn_id", "student_ref"):
        line = _line(1) | {"bank_txn_id": "ok", field: "a\u0000b"}
        r = client.post("/api/v1/escrow/statements", headers=bank, json={
            "account_number": account.account_number, "transactions": [_line(0), line]})
        assert r.status_code == 422, r.json
    db.session.remove()
    assert db.session.get(EscrowAccount, account_id).balance == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 0


def test_a_push_racing_another_account_for_the_same_id_gets_a_409_naming_it(app):
    """Two accounts of one bank push the same id at once: the unique index makes the later
    wait for the earlier, and the loser is told which id, with nothing of its batch stored."""
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    numbers = [factories.escrow_account().account_number for _ in range(2)]
    answers = []

    def pusher(number):
        def job():
            r = app.test_client().post("/api/v1/escrow/statements", headers=bank, json={
                "account_number": number,
                "transactions": [_line(i) | {"bank_txn_id": f"{number}-{i}"} for i in range(500)]
                + [_line(7) | {"bank_txn_id": "shared"}]})
            answers.append((r.status_code, r.json))
        return job

    _run_together(pusher(numbers[0]), pusher(numbers[1]))
    assert sorted(code for code, _ in answers) == [200, 409]
    [lost] = [body for code, body in answers if code == 409]
    assert lost["code"] == "bank_txn_id_reused" and lost["bank_txn_ids"] == ["shared"]
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 501
