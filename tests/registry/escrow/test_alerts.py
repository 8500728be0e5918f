"""Alert conditions fire on their edges, with regional and per-account thresholds."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from registry import access, audit, clock
from registry.db import db
from registry.escrow import alerts, ledger
from registry.escrow.models import Alert
from registry.rules.models import Breach, RuleOverride
from tests import factories
from tests.factories import txn

BANK = access.Principal(name="icbc", role="bank", bank_code="ICBC")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=clock.CST)


def push(account, *items):
    with audit.acting_as(BANK):
        result = ledger.ingest(BANK, account.account_number, list(items))
        db.session.commit()
    return [a.kind for a in result.alerts]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_balance_below_minimum_fires_once_per_crossing_not_per_transaction(app):
    acc = factories.escrow_account(min_balance=100_000)  # 1,000.00 yuan
    assert push(acc, txn("in", amount="5000.00", at=at(0))) == []
    kinds = push(acc, *[txn(f"r{i}", "release", "1000.00", at=at(1 + i)) for i in range(4)],
                 txn("r5", "release", "100.00", at=at(6)))
    assert kinds.count("BALANCE_BELOW_MINIMUM") == 1  # 900.00 < 1,000.00 from the 5th on
    assert push(acc, txn("r6", "release", "100.00", at=at(7))) == []  # still below: silent
    push(acc, txn("in2", amount="2000.00", at=at(8)))  # cleared
    assert "BALANCE_BELOW_MINIMUM" in push(acc, txn("r7", "release", "2000.00", at=at(9)))


def test_large_outflow_uses_the_account_threshold_over_the_region(app):
    acc = factories.escrow_account(large_outflow_threshold=300_000)  # 3,000.00
    push(acc, txn("in", amount="90000.00", at=at(0)))
    assert push(acc, txn("w1", "withdrawal", "2999.99", at=at(1))) == []
    assert push(acc, txn("w2", "withdrawal", "3000.00", at=at(2))) == ["LARGE_OUTFLOW"]
    assert push(acc, txn("w3", "withdrawal", "3500.00", at=at(3))) == []  # still large
    assert push(acc, txn("w4", "release", "10.00", at=at(4))) == []  # clears
    assert push(acc, txn("w5", "withdrawal", "4000.00", at=at(5))) == ["LARGE_OUTFLOW"]


def test_large_outflow_defaults_to_the_regional_threshold(app):
    acc = factories.escrow_account()
    push(acc, txn("in", amount="900000.00", at=at(0)))
    assert push(acc, txn("w1", "withdrawal", "49999.99", at=at(1))) == []
    assert "LARGE_OUTFLOW" in push(acc, txn("w2", "withdrawal", "50000.00", at=at(2)))


def test_rapid_drain_compares_window_outflows_with_the_balance_at_its_start(app):
    acc = factories.escrow_account()  # region: 72 hours, 30 %
    push(acc, txn("in", amount="10000.00", at=at(0)))
    # 100 hours later the window starts with 10,000.00: 3,000.00 out is not over 30 %
    assert push(acc, txn("a", "release", "1500.00", at=at(100)),
                txn("b", "release", "1500.00", at=at(101))) == []
    assert push(acc, txn("c", "release", "0.01", at=at(102))) == ["RAPID_DRAIN"]
    assert push(acc, txn("d", "release", "100.00", at=at(103))) == []  # still draining
    # four days of calm: the window empties and the condition clears
    assert push(acc, txn("e", "release", "1.00", at=at(300))) == []
    assert push(acc, txn("f", "withdrawal", "2500.00", at=at(301))) == ["RAPID_DRAIN"]


def test_rapid_drain_parameters_can_be_set_per_account(app):
    acc = factories.escrow_account(rapid_drain_window_hours=1, rapid_drain_max_share_percent=70)
    push(acc, txn("in", amount="1000.00", at=at(0)))
    assert push(acc, txn("a", "release", "400.00", at=at(10)),
                txn("b", "release", "400.00", at=at(12))) == []  # 2 hours apart: 1-hour window
    assert push(acc, txn("c", "release", "150.00", at=at(12.5))) == ["RAPID_DRAIN"]


def test_balance_mismatch_fires_when_the_bank_disagrees_and_again_after_agreeing(app):
    acc = factories.escrow_account()
    assert push(acc, txn("a", amount="100.00", at=at(0), balance_after="100.00")) == []
    assert push(acc, txn("b", amount="50.00", at=at(1), balance_after="160.00")) == [
        "BALANCE_MISMATCH"]
    assert push(acc, txn("c", amount="10.00", at=at(2), balance_after="170.00")) == []
    assert push(acc, txn("d", amount="10.00", at=at(3), balance_after="170.00")) == []
    assert push(acc, txn("e", amount="10.00", at=at(4), balance_after="1.00")) == [
        "BALANCE_MISMATCH"]


def test_out_of_order_batch_is_applied_in_time_order(app):
    acc = factories.escrow_account()
    kinds = push(acc, txn("2", "release", "30.00", at=at(2), balance_after="70.00"),
                 txn("1", amount="100.00", at=at(1), balance_after="100.00"),
                 txn("3", "release", "20.00", at=at(3), balance_after="50.00"))
    assert kinds == []
    db.session.refresh(acc)
    assert acc.balance == 5000
    assert acc.balance_as_of == at(3)


def test_late_transaction_is_checked_against_the_balance_at_its_time(app):
    acc = factories.escrow_account()
    push(acc, txn("1", amount="100.00", at=at(1), balance_after="100.00"),
         txn("3", "release", "20.00", at=at(3), balance_after="60.00"))  # bank counts "2"
    assert push(acc, txn("2", "release", "20.00", at=at(2), balance_after="80.00")) == []
    db.session.refresh(acc)
    assert acc.balance == 6000


def test_prepaid_over_caps_alert_and_open_breaches_for_supervisors(app):
    inst = factories.institution(category="non_subject")
    acc = factories.escrow_account(inst)
    kinds = push(acc, txn("ok", amount="5000.00", at=at(0), covers_lessons=60,
                          covers_until="2026-06-02"),
                 txn("bad", amount="5000.01", at=at(1), covers_lessons=61,
                     covers_until="2026-06-03"))
    assert kinds == ["PREPAID_OVER_CAP"]
    alert = db.session.scalar(sa.select(Alert))
    assert sorted(alert.details["rules"]) == ["PREPAID_OVER_3_MONTHS", "PREPAID_OVER_5000",
                                             "PREPAID_OVER_60_LESSONS"]
    found = db.session.scalars(sa.select(Breach).where(Breach.account_id == acc.id)).all()
    assert sorted(b.rule for b in found) == sorted(alert.details["rules"])
    assert all(b.institution_id == inst.id and b.region_code == "330106" for b in found)


def test_5000_cap_applies_to_subject_training_only_where_the_region_says_so(app):
    subject = factories.institution(category="subject", non_subject_type=None)
    acc = factories.escrow_account(subject)
    assert push(acc, txn("a", amount="8000.00", at=at(0))) == []
    shanghai = factories.institution(category="subject", non_subject_type=None,
                                     region_code="310104", uscc=factories.uscc(region="310104"))
    acc2 = factories.escrow_account(shanghai)
    assert push(acc2, txn("b", amount="8000.00", at=at(0))) == ["PREPAID_OVER_CAP"]


def test_regional_override_of_the_large_outflow_threshold(app):
    next_id = (db.session.scalar(sa.select(sa.func.max(RuleOverride.id))) or 0) + 1
    db.session.add(RuleOverride(id=next_id, rule_code="LARGE_OUTFLOW", region_code="330100",
                                params={"threshold": "1000.00"}))
    db.session.commit()
    acc = factories.escrow_account()
    push(acc, txn("in", amount="5000.00", at=at(0)))
    assert push(acc, txn("w", "withdrawal", "1000.00", at=at(1))) == ["LARGE_OUTFLOW"]


@pytest.fixture
def blacklisted():
    marked: set[int] = set()
    checker = marked.__contains__
    alerts.blacklist_checkers.append(checker)
    yield marked
    alerts.blacklist_checkers.remove(checker)


def test_every_non_refund_outflow_while_blacklisted_alerts(app, blacklisted):
    acc = factories.escrow_account()
    push(acc, txn("in", amount="1000.00", at=at(0)))
    assert push(acc, txn("w0", "withdrawal", "1.00", at=at(1))) == []
    blacklisted.add(acc.institution_id)
    assert alerts.is_blacklisted(acc.institution_id)
    kinds = push(acc, txn("r", "refund", "1.00", at=at(2)),
                 txn("w1", "withdrawal", "1.00", at=at(3)), txn("f", "fee", "1.00", at=at(4)))
    assert kinds == ["OUTFLOW_WHILE_BLACKLISTED", "OUTFLOW_WHILE_BLACKLISTED"]


def test_alert_carries_the_institution_and_details_in_yuan(app):
    acc = factories.escrow_account(min_balance=10_000)
    push(acc, txn("in", amount="50.00", at=at(0)))
    alert = db.session.scalar(sa.select(Alert))
    assert alert.kind == "BALANCE_BELOW_MINIMUM" and alert.severity == "high"
    assert alert.details["balance"] == "50.00" and alert.details["min_balance"] == "100.00"
    assert alert.uscc and alert.bank_code == "ICBC" and alert.region_code == "330106"
