"""Custody through the API: accounts, statements, the alert feed."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from registry import clock
from registry.audit import AuditEvent
from registry.db import db
from registry.escrow.models import Alert, EscrowAccount, EscrowTransaction
from tests import factories
from tests.factories import txn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=clock.CST)


@pytest.fixture
def bank(app):
    return factories.auth(factories.token("bank", bank="ICBC", name="icbc"))


@pytest.fixture
def account(app):
    return factories.escrow_account(number="6222020200112233445", min_balance=100_000)


def post_statement(client, bank, number, *items):
    return client.post("/api/v1/escrow/statements", headers=bank,
                       json={"account_number": number, "transactions": list(items)})


def test_bank_registers_an_account_at_its_own_bank_only(client, bank):
    inst = factories.institution()
    body = {"institution_id": inst.id, "bank_code": "ICBC", "account_number": "6222000011112222",
            "min_balance": "1000.00", "large_outflow_threshold": "20000.00"}
    r = client.post("/api/v1/escrow/accounts", headers=bank, json=body)
    assert r.status_code == 201, r.json
    assert r.json["account_number"] == "6222000011112222"
    assert r.json["min_balance"] == "1000.00" and r.json["balance"] == "0.00"
    r = client.post("/api/v1/escrow/accounts", headers=bank,
                    json=body | {"bank_code": "CCB", "account_number": "6222000011113333"})
    assert r.status_code == 403 and "bank_code" in r.json["errors"]
    assert client.post("/api/v1/escrow/accounts", headers=bank, json=body).status_code == 409


def test_several_accounts_per_institution(client, supervisor):
    inst = factories.institution()
    for number in ("6222000011110001", "6222000011110002"):
        r = client.post("/api/v1/escrow/accounts", headers=supervisor, json={
            "institution_id": inst.id, "bank_code": "ICBC", "account_number": number,
            "min_balance": "0.00"})
        assert r.status_code == 201
    r = client.get(f"/api/v1/escrow/accounts?institution_id={inst.id}", headers=supervisor)
    assert r.json["total"] == 2


def test_supervisor_sees_accounts_in_region_masked_and_not_outside(client, supervisor, account):
    r = client.get(f"/api/v1/escrow/accounts/{account.id}", headers=supervisor)
    assert r.status_code == 200 and r.json["account_number"] == "6222***********3445"
    other = factories.auth(
        factories.token("supervisor", region="110000", name="bj"))
    assert client.get(f"/api/v1/escrow/accounts/{account.id}", headers=other).status_code == 404


def test_other_bank_cannot_see_the_account(client, account):
    ccb = factories.auth(factories.token("bank", bank="CCB", name="ccb"))
    assert client.get(f"/api/v1/escrow/accounts/{account.id}", headers=ccb).status_code == 404
    assert client.get("/api/v1/escrow/accounts", headers=ccb).json["total"] == 0


def test_same_statement_three_times_gives_one_ledger(client, bank, account):
    items = [txn(f"t{i}", amount="1000.00", at=T0 + timedelta(minutes=i),
                 balance_after=f"{(i + 1) * 1000}.00") for i in range(5)]
    first = post_statement(client, bank, account.account_number, *items)
    assert first.status_code == 200, first.json
    assert first.json["accepted"] == 5 and first.json["duplicates"] == 0
    for _ in range(2):
        again = post_statement(client, bank, account.account_number, *items)
        assert again.status_code == 200
        assert again.json["accepted"] == 0 and again.json["duplicates"] == 5
        assert sorted(again.json["duplicate_ids"]) == [f"t{i}" for i in range(5)]
        assert again.json["alerts"] == []
    r = client.get(f"/api/v1/escrow/accounts/{account.id}", headers=bank)
    assert r.json["balance"] == "5000.00"
    assert r.json["balance_as_of"] == (T0 + timedelta(minutes=4)).isoformat()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 5
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "escrow.statement")).all()
    assert len(events) == 1 and events[0].after["accepted"] == 5
    assert "6222020200112233445" not in str(events[0].after)


def test_partly_replayed_batch_applies_only_the_new_transactions(client, bank, account):
    post_statement(client, bank, account.account_number, txn("a", amount="10.00", at=T0))
    r = post_statement(client, bank, account.account_number, txn("a", amount="10.00", at=T0),
                       txn("b", amount="5.00", at=T0 + timedelta(hours=1)))
    assert (r.json["accepted"], r.json["duplicates"], r.json["balance"]) == (1, 1, "15.00")


def test_reused_transaction_id_with_other_content_is_a_409_naming_it(client, bank, account):
    post_statement(client, bank, account.account_number, txn("a", amount="10.00", at=T0))
    r = post_statement(client, bank, account.account_number,
                       txn("b", amount="1.00", at=T0), txn("a", amount="10.01", at=T0))
    assert r.status_code == 409 and r.json["code"] == "bank_txn_id_reused"
    assert "a" in r.json["bank_txn_ids"] and "bank_txn_id" in r.json["errors"]["transactions"]["1"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "10.001"), ("amount", "-10.00"), ("amount", 10.5), ("amount", "0.00"),
    ("amount", 10), ("kind", "gift"), ("occurred_at", "yesterday"),
    ("balance_after", 12.5), ("covers_lessons", "sixty"), ("covers_until", "2026-13-01"),
    ("surprise", "x"),
])
def test_bad_transaction_is_rejected_naming_the_field_and_nothing_is_stored(
        client, bank, account, field, value):
    bad = txn("bad", at=T0) | {field: value}
    r = post_statement(client, bank, account.account_number,
                       txn("good", at=T0 - timedelta(hours=1)), bad)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]["transactions"]["1"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 0
    assert db.session.get(EscrowAccount, account.id).balance == 0


def test_account_at_another_bank_is_rejected_naming_the_account_number(client, account):
    ccb = factories.auth(factories.token("bank", bank="CCB", name="ccb"))
    r = post_statement(client, ccb, account.account_number, txn("x", at=T0))
    assert r.status_code == 422 and "account_number" in r.json["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 0


def test_supervisor_cannot_push_statements(client, supervisor, account):
    r = post_statement(client, supervisor, account.account_number, txn("x", at=T0))
    assert r.status_code == 403


def test_empty_or_oversized_batches_are_refused(client, bank, account):
    assert post_statement(client, bank, account.account_number).status_code == 422
    many = [txn(f"t{i}", at=T0) for i in range(10_001)]
    r = post_statement(client, bank, account.account_number, *many)
    assert r.status_code == 422 and "transactions" in r.json["errors"]


def test_statement_response_carries_the_alerts_it_raised(client, bank, account):
    r = post_statement(client, bank, account.account_number, txn("a", amount="999.99", at=T0))
    [alert] = r.json["alerts"]
    assert alert["kind"] == "BALANCE_BELOW_MINIMUM"
    assert alert["account_number"] == account.account_number
    assert set(alert) >= {"id", "kind", "severity", "account_number", "bank_code",
                          "institution_id", "uscc", "created_at", "details", "acknowledged_at"}


def _alerts(n, account, bank, client):
    """n alerts: each pair of movements crosses the minimum balance once."""
    for i in range(n):
        post_statement(client, bank, account.account_number,
                       txn(f"dip{i}", amount="1.00", at=T0 + timedelta(hours=2 * i)),
                       txn(f"top{i}", amount="2000.00", at=T0 + timedelta(hours=2 * i + 1)),
                       txn(f"out{i}", "release", "2000.00",
                           at=T0 + timedelta(hours=2 * i + 1, minutes=30)))


def test_feed_pages_in_id_order_without_gaps_or_repeats(client, bank, account):
    _alerts(7, account, bank, client)
    seen, after = [], 0
    while True:
        r = client.get(f"/api/v1/escrow/alerts?after={after}&limit=3", headers=bank)
        assert r.status_code == 200
        seen += [a["id"] for a in r.json["items"]]
        if not r.json["items"]:
            assert r.json["next_after"] == after
            break
        after = r.json["next_after"]
    stored = db.session.scalars(sa.select(Alert.id).order_by(Alert.id)).all()
    assert len(stored) >= 7 and seen == stored


def test_feed_is_scoped_to_the_bank_and_the_region(client, bank, account, supervisor):
    _alerts(2, account, bank, client)
    ccb = factories.auth(factories.token("bank", bank="CCB", name="ccb"))
    beijing = factories.auth(factories.token("supervisor", region="110000", name="bj"))
    assert client.get("/api/v1/escrow/alerts", headers=ccb).json["items"] == []
    assert client.get("/api/v1/escrow/alerts", headers=beijing).json["items"] == []
    items = client.get("/api/v1/escrow/alerts", headers=supervisor).json["items"]
    assert len(items) >= 2 and items[0]["account_number"] == "6222***********3445"


def test_acknowledging_an_alert_is_recorded_once(client, bank, account):
    _alerts(1, account, bank, client)
    alert_id = client.get("/api/v1/escrow/alerts", headers=bank).json["items"][0]["id"]
    r = client.post(f"/api/v1/escrow/alerts/{alert_id}/ack", headers=bank)
    assert r.status_code == 200 and r.json["acknowledged_at"]
    again = client.post(f"/api/v1/escrow/alerts/{alert_id}/ack", headers=bank)
    assert again.json["acknowledged_at"] == r.json["acknowledged_at"]
    ccb = factories.auth(factories.token("bank", bank="CCB", name="ccb"))
    assert client.post(f"/api/v1/escrow/alerts/{alert_id}/ack", headers=ccb).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "escrow_alert.ack")) == 1


def test_account_thresholds_can_be_changed_and_fall_back_to_the_region(client, bank, account):
    r = client.patch(f"/api/v1/escrow/accounts/{account.id}", headers=bank, json={
        "large_outflow_threshold": "100.00", "min_balance": "0.00"})
    assert r.status_code == 200
    assert (r.json["large_outflow_threshold"], r.json["min_balance"]) == ("100.00", "0.00")
    post_statement(client, bank, account.account_number, txn("in", amount="500.00", at=T0))
    r = post_statement(client, bank, account.account_number,
                       txn("w", "withdrawal", "100.00", at=T0 + timedelta(hours=1)))
    assert [a["kind"] for a in r.json["alerts"]] == ["LARGE_OUTFLOW"]
    r = client.patch(f"/api/v1/escrow/accounts/{account.id}", headers=bank,
                     json={"large_outflow_threshold": None})
    assert r.json["large_outflow_threshold"] is None
    r = client.patch(f"/api/v1/escrow/accounts/{account.id}", headers=bank,
                     json={"min_balance": "1.001"})
    assert r.status_code == 422 and "min_balance" in r.json["errors"]


def test_supervisor_cannot_open_an_account_outside_its_region(client, supervisor):
    inst = factories.institution(region_code="110105", uscc=factories.uscc(region="110105"))
    r = client.post("/api/v1/escrow/accounts", headers=supervisor, json={
        "institution_id": inst.id, "bank_code": "ICBC", "account_number": "6222000011110001",
        "min_balance": "0.00"})
    assert r.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowAccount)) == 0
