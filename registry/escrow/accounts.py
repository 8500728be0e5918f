"""Custody accounts: several per institution, each at one bank; who may see which."""

import re

import sqlalchemy as sa

from registry import audit
from registry.access import Principal, check_scope
from registry.db import db, snapshot
from registry.errors import Conflict, Forbidden, Invalid, NotFound
from registry.escrow import mask_account
from registry.escrow.models import EscrowAccount
from registry.institutions.models import Institution

_NUMBER = re.compile(r"^[0-9A-Za-z-]{6,40}$")
EDITABLE = ("min_balance", "large_outflow_threshold", "rapid_drain_window_hours",
            "rapid_drain_max_share_percent")


def clean_number(number: str) -> str:
    cleaned = re.sub(r"\s+", "", number or "")
    if not _NUMBER.match(cleaned):
        raise Invalid("account_number", "an account number is 6 to 40 letters or digits")
    return cleaned


def audit_view(account: EscrowAccount) -> dict:
    """An account for the audit log: the number masked."""
    view = snapshot(account)
    view["account_number"] = mask_account(account.account_number)
    return view


def open_account(actor: Principal, data: dict) -> EscrowAccount:
    """Register a custody account. Banks open accounts only at their own bank code."""
    bank_code = (data.get("bank_code") or "").strip()
    if actor.role == "bank" and bank_code != actor.bank_code:
        raise Forbidden("a bank may register accounts only at its own bank code",
                        code="other_bank", errors={"bank_code": ["not your bank code"]})
    inst = db.session.get(Institution, data["institution_id"])
    if inst is None:
        raise Invalid("institution_id", f"no institution {data['institution_id']}")
    if actor.role != "bank":
        check_scope(actor, inst.region_code)
    number = clean_number(data["account_number"])
    exists = db.session.scalar(sa.select(EscrowAccount.id).where(
        EscrowAccount.bank_code == bank_code, EscrowAccount.account_number == number))
    if exists:
        raise Conflict("this account is registered already", code="duplicate_account",
                       errors={"account_number": ["already registered at this bank"]})
    account = EscrowAccount(
        institution_id=inst.id, region_code=inst.region_code, bank_code=bank_code,
        account_number=number, balance=0, txn_count=0,
        **{k: data.get(k) for k in EDITABLE if k != "min_balance"},
        min_balance=data.get("min_balance") or 0)
    db.session.add(account)
    db.session.flush()
    audit.record("escrow_account.open", "escrow_account", account.id, None, audit_view(account))
    return account


def update(actor: Principal, account: EscrowAccount, changes: dict) -> EscrowAccount:
    """Set the per-account thresholds (None falls back to the region's)."""
    before = audit_view(account)
    for key in EDITABLE:
        if key in changes:
            value = changes[key]
            if key == "min_balance" and value is None:
                raise Invalid("min_balance", "a minimum balance is required (it may be 0.00)")
            setattr(account, key, value)
    db.session.flush()
    after = audit_view(account)
    if after != before:
        audit.record("escrow_account.update", "escrow_account", account.id, before, after)
    return account


def visible(actor: Principal):
    """A select of the accounts this caller may see."""
    stmt = sa.select(EscrowAccount)
    return _scoped(stmt, actor, EscrowAccount)


def _scoped(stmt, actor: Principal, model):
    if actor.role == "bank":
        return stmt.where(model.bank_code == actor.bank_code)
    scope = actor.region_prefix
    if scope is not None:
        stmt = stmt.where(model.region_code.startswith(scope))
    return stmt


def get(actor: Principal, account_id: int) -> EscrowAccount:
    account = db.session.get(EscrowAccount, account_id)
    if account is None or not may_see(actor, account):
        raise NotFound(f"no custody account {account_id}")
    return account


def may_see(actor: Principal, row) -> bool:
    """`row` is an account or an alert (both carry bank_code and region_code)."""
    if actor.role == "bank":
        return row.bank_code == actor.bank_code
    return actor.covers(row.region_code)


def find_for_bank(bank_code: str, number: str, field: str = "account_number", *,
                  lock: bool = False) -> EscrowAccount:
    """The bank's account by number; another bank's account is as unknown as a missing one.
    `lock` reads it afresh under a row lock held to commit (FOR NO KEY UPDATE)."""
    stmt = sa.select(EscrowAccount).where(
        EscrowAccount.bank_code == bank_code,
        EscrowAccount.account_number == re.sub(r"\s+", "", number or ""))
    if lock:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    account = db.session.scalar(stmt)
    if account is None:
        raise Invalid(field, "no custody account with this number at your bank",
                      code="unknown_account")
    return account


def shows_full_number(actor: Principal, account) -> bool:
    """Banks see their own full account numbers; everyone else sees them masked."""
    return actor.role == "bank" and actor.bank_code == account.bank_code
