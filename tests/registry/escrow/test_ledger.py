"""The ledger's fast paths give what the careful ones give: parsing, storing, replays."""

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from registry import access, audit, clock
from registry.audit import AuditEvent
from registry.db import db
from registry.errors import Conflict, Invalid
from registry.escrow import ledger
from registry.escrow.models import EscrowAccount, EscrowTransaction
from tests import factories
from tests.factories import txn

BANK = access.Principal(name="icbc", role="bank", bank_code="ICBC")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=clock.CST)
BASE = {"bank_txn_id": "t1", "occurred_at": "2026-03-02T09:00:00+08:00",
        "kind": "prepaid_income", "amount": "100.00"}


def push(account, *items):
    with audit.acting_as(BANK):
        result = ledger.ingest(BANK, account.account_number, list(items))
        db.session.commit()
    return result


def careful(item):
    problems = {}
    found = ledger._parse_one(0, item, set(ledger.FIELDS), problems)
    return found, problems


@pytest.mark.parametrize("change", [
    {}, {"amount": "12"}, {"amount": "12.5"}, {"amount": "0.01"}, {"amount": "999999999999999.99"},
    {"occurred_at": "2026-03-02T09:00:00"}, {"occurred_at": "2026-03-02T01:00:00Z"},
    {"occurred_at": "2026-03-02T01:00:00.123456+00:00"},
    {"kind": "release", "balance_after": "0.00"}, {"kind": "fee", "balance_after": "12.3"},
    {"student_ref": "S1", "covers_lessons": 48, "covers_until": "2026-06-01"},
    {"student_ref": None, "covers_lessons": None, "covers_until": None, "balance_after": None},
    {"bank_txn_id": "x" * 64},
])
def test_quick_parse_gives_exactly_what_the_field_by_field_parse_gives(change):
    item = BASE | change
    expected, problems = careful(item)
    assert problems == {} and expected is not None
    assert ledger._quick(0, item) == expected
    assert ledger.parse([item]) == [expected]


@pytest.mark.parametrize("change", [
    {"amount": " 12.00"}, {"amount": "１２.00"}, {"bank_txn_id": " t1 "},
    {"kind": "refund", "balance_after": "-5.00"}, {"occurred_at": "2026-03-02 09:00:00"},
    {"occurred_at": "2026-03-02t09:00:00"},
])
def test_unusual_but_valid_items_take_the_careful_path_to_the_same_result(change):
    item = BASE | change
    expected, problems = careful(item)
    assert problems == {} and expected is not None
    assert ledger._quick(0, item) is None
    assert ledger.parse([item]) == [expected]


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "0.00"), ("amount", "1.234"), ("amount", ".5"), ("amount", "5."), ("amount", 5),
    ("amount", None), ("kind", ["release"]), ("kind", "gift"), ("occurred_at", "2026-03-02"),
    ("occurred_at", "2026-03-02T25:00:00"), ("bank_txn_id", ""), ("bank_txn_id", "x" * 65),
    ("covers_until", "2026-02-30"), ("covers_until", 20260601), ("covers_lessons", True),
    ("covers_lessons", 0), ("student_ref", 7), ("balance_after", "1,000.00"), ("extra", 1),
])
def test_bad_items_are_named_by_field_whatever_the_path(field, value):
    item = BASE | {field: value}
    assert ledger._quick(0, item) is None
    with pytest.raises(Invalid) as caught:
        ledger.parse([BASE | {"bank_txn_id": "ok"}, item])
    assert field in caught.value.errors["transactions"]["1"]


def test_digest_is_the_stored_form_of_the_content():
    """Stored rows carry this digest; a replay must compute the same one to be a replay."""
    t = ledger.Txn(0, "t1", datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "prepaid_income", 10_000,
                   None, "S1", 48, date(2026, 6, 1))
    body = "A1|2026-03-02T01:00:00+00:00|prepaid_income|10000|None|S1|48|2026-06-01"
    assert ledger._digest("A1", t) == hashlib.sha256(body.encode()).hexdigest()


def test_stored_instants_are_the_reported_ones(app):
    acc = factories.escrow_account()
    when = datetime(2026, 3, 2, 23, 59, 58, 123456, tzinfo=clock.CST)
    push(acc, txn("late", at=when), txn("naive", at=T0) | {"occurred_at": "2026-03-02T09:00:00"})
    db.session.remove()
    stored = dict(db.session.execute(sa.select(EscrowTransaction.bank_txn_id,
                                               EscrowTransaction.occurred_at)).all())
    assert stored == {"late": when, "naive": T0}
    assert stored["late"].tzinfo is not None
    received = db.session.scalar(sa.select(sa.func.min(EscrowTransaction.received_at)))
    assert abs(received - clock.now()) < timedelta(minutes=5)


def test_batch_with_replays_and_new_movements_stores_the_new_once_and_audits_once(app):
    acc = factories.escrow_account(min_balance=50_000)
    acc_id = acc.id
    push(acc, txn("a", amount="1000.00", at=T0), txn("b", amount="10.00", at=T0))
    result = push(acc, txn("b", amount="10.00", at=T0),
                  txn("c", "release", "600.00", at=T0 + timedelta(hours=1)),
                  txn("a", amount="1000.00", at=T0), txn("c", "release", "600.00",
                                                          at=T0 + timedelta(hours=1)))
    assert (result.accepted, result.duplicates) == (1, 3)
    assert sorted(result.duplicate_ids) == ["a", "b", "c"]
    assert [a.kind for a in result.alerts] == ["BALANCE_BELOW_MINIMUM"]  # 410.00 < 500.00
    db.session.remove()
    account = db.session.get(EscrowAccount, acc_id)
    assert (account.balance, account.txn_count) == (41_000, 3)
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "escrow.statement").order_by(AuditEvent.seq)).all()
    assert [e.after["accepted"] for e in events] == [2, 1]
    again = push(account, txn("c", "release", "600.00", at=T0 + timedelta(hours=1)))
    assert (again.accepted, again.duplicates, again.alerts) == (0, 1, [])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "escrow.statement")) == 2


def test_an_id_another_account_of_the_bank_stored_is_a_conflict_naming_it(app):
    first, second = factories.escrow_account(), factories.escrow_account()
    second_id = second.id
    push(first, txn("shared", amount="10.00", at=T0))
    with pytest.raises(Conflict) as caught:
        push(second, txn("new", amount="5.00", at=T0), txn("shared", amount="10.00", at=T0))
    assert caught.value.code == "bank_txn_id_reused"
    assert caught.value.extra["bank_txn_ids"] == ["shared"]
    db.session.rollback()
    assert db.session.get(EscrowAccount, second_id).balance == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 1
