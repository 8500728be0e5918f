"""The black list reaches custody: outflows other than refunds from a blacklisted
institution's account raise OUTFLOW_WHILE_BLACKLISTED."""

import pytest

from registry import access, audit, clock
from registry.db import db
from registry.lists import blacklist
from tests import factories

escrow = pytest.importorskip("registry.escrow.ledger", reason="custody (issue 4) not present")

BANK = access.Principal(name="icbc", role="bank", bank_code="ICBC")


def _account(inst, number="6222020200112233445"):
    from registry.escrow import accounts

    with audit.acting_as(access.SYSTEM):
        acc = accounts.open_account(access.SYSTEM, {
            "institution_id": inst.id, "bank_code": "ICBC", "account_number": number,
            "min_balance": 0})
        db.session.commit()
    return acc


def _push(number, *txns):
    with audit.acting_as(BANK):
        result = escrow.ingest(BANK, number, list(txns))
        db.session.commit()
    return [a.kind for a in result.alerts]


def _txn(txn_id, kind, amount):
    return {"bank_txn_id": txn_id, "occurred_at": clock.now().isoformat(), "kind": kind,
            "amount": amount}


def test_withdrawal_after_blacklisting_alerts_and_refund_does_not(app):
    inst = factories.institution()
    acc = _account(inst)
    _push(acc.account_number, _txn("t1", "prepaid_income", "5000.00"))
    assert "OUTFLOW_WHILE_BLACKLISTED" not in _push(acc.account_number,
                                                    _txn("t2", "withdrawal", "10.00"))
    with audit.acting_as(access.SYSTEM):
        blacklist.add(access.SYSTEM, {"institution_id": inst.id,
                                      "reason_code": "fled_with_fees", "reason": "卷款"})
        db.session.commit()
    assert "OUTFLOW_WHILE_BLACKLISTED" not in _push(acc.account_number,
                                                    _txn("t3", "refund", "100.00"))
    assert "OUTFLOW_WHILE_BLACKLISTED" in _push(acc.account_number,
                                                _txn("t4", "withdrawal", "100.00"))
