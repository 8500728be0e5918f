"""Alert conditions on custody accounts, fired on their edges, and the alert feed.

Each condition's state (holds / does not hold) is persisted per account, so an alert fires
once when its condition starts to hold and again only after it has cleared:
BALANCE_BELOW_MINIMUM, BALANCE_MISMATCH, LARGE_OUTFLOW (holds while the latest outflow is
large; a normal outflow clears it) and RAPID_DRAIN. Two kinds are events rather than states,
each one its own risk: PREPAID_OVER_CAP (per prepaid income over a cap; it also records the
supervisor-facing breach) and OUTFLOW_WHILE_BLACKLISTED (per non-refund outflow while the
institution is blacklisted).

Feed order: alert ids are allocated under a transaction-scoped lock on PostgreSQL, so they
are committed in id order and a reader that stores `next_after` can never skip an id that
commits later.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from registry import audit, clock
from registry.access import Principal
from registry.db import db, is_postgres, snapshot, utcnow
from registry.errors import NotFound
from registry.escrow import accounts, mask_account
from registry.escrow.models import Alert, AlertState, EscrowAccount
from registry.institutions.models import Institution
from registry.money import format_fen, parse_yuan
from registry.rules import breaches, catalogue

_FEED_LOCK = 0x455343524F57  # pg advisory lock key: alert ids commit in id order
CAP_RULES = ("PREPAID_OVER_3_MONTHS", "PREPAID_OVER_60_LESSONS", "PREPAID_OVER_5000")

# --- the black-list hook ---------------------------------------------------------------------
blacklist_checkers: list[Callable[[int], bool]] = []


def is_blacklisted(institution_id: int) -> bool:
    """True when any registered checker (the black list registers one) says so."""
    return any(check(institution_id) for check in blacklist_checkers)


# --- limits ----------------------------------------------------------------------------------
@dataclass
class Limits:
    enabled: dict
    severity: dict
    min_balance: int
    large_outflow: int
    window: timedelta
    share_percent: int
    max_months: int
    max_lessons: int
    max_amount: int
    amount_cap_applies: bool


def limits_for(account: EscrowAccount) -> Limits:
    """Regional parameters, with the account's own values winning."""
    codes = ("BALANCE_BELOW_MINIMUM", "LARGE_OUTFLOW", "RAPID_DRAIN", "BALANCE_MISMATCH",
             "PREPAID_OVER_CAP", "OUTFLOW_WHILE_BLACKLISTED") + CAP_RULES
    found = catalogue.params_of(codes, account.region_code)
    p = {code: params for code, (_, params) in found.items()}
    severity = {code: level for code, (level, _) in found.items()}
    category = db.session.scalar(sa.select(Institution.category)
                                 .where(Institution.id == account.institution_id))
    drain, cap5000 = p["RAPID_DRAIN"], p["PREPAID_OVER_5000"]
    return Limits(
        enabled={code: bool(v.get("enabled", True)) for code, v in p.items()},
        severity=severity,
        min_balance=account.min_balance or 0,
        large_outflow=(account.large_outflow_threshold
                       if account.large_outflow_threshold is not None
                       else _fen(p["LARGE_OUTFLOW"].get("threshold", "50000.00"))),
        window=timedelta(hours=int(account.rapid_drain_window_hours
                                   or drain.get("window_hours", 72))),
        share_percent=int(account.rapid_drain_max_share_percent
                          or drain.get("max_share_percent", 30)),
        max_months=int(p["PREPAID_OVER_3_MONTHS"].get("max_months", 3)),
        max_lessons=int(p["PREPAID_OVER_60_LESSONS"].get("max_lessons", 60)),
        max_amount=_fen(cap5000.get("max_amount", "5000.00")),
        amount_cap_applies=(cap5000.get("applies_to", "non_subject") == "all"
                            or category == "non_subject"),
    )


def _fen(value) -> int:
    return parse_yuan(value) if isinstance(value, str) else int(value) * 100


# --- evaluation ------------------------------------------------------------------------------
def evaluate(account: EscrowAccount, limits: Limits, fresh: list, history: list[tuple],
             opening: int) -> list[Alert]:
    """Walk the new movements in time order (merged with the stored ones of the drain window,
    `history`: (occurred_at, id, delta)) and raise the alerts whose conditions start to hold.
    `opening` is the balance before."""
    states = {s.kind: s for s in db.session.scalars(
        sa.select(AlertState).where(AlertState.account_id == account.id))}
    held = {kind: s.active for kind, s in states.items()}
    pending: list[tuple[str, dict]] = []
    caps: list[tuple[object, list[tuple[str, str]]]] = []
    on = limits.enabled
    blacklisted = (on["OUTFLOW_WHILE_BLACKLISTED"] and any(t.outflow for t in fresh)
                   and is_blacklisted(account.institution_id))
    # Each condition's state, None until first judged (a condition never judged keeps no row).
    below, mismatch, large, drain = (held.get(k) for k in (
        "BALANCE_BELOW_MINIMUM", "BALANCE_MISMATCH", "LARGE_OUTFLOW", "RAPID_DRAIN"))
    on_below, on_mismatch, on_large, on_drain = (on[k] for k in (
        "BALANCE_BELOW_MINIMUM", "BALANCE_MISMATCH", "LARGE_OUTFLOW", "RAPID_DRAIN"))
    on_cap = on["PREPAID_OVER_CAP"]
    min_balance, large_outflow = limits.min_balance, limits.large_outflow
    share, window = limits.share_percent, limits.window
    cap_limits: dict = {}

    # (time, order, id or index, delta, txn or None): stored rows sort before new at one time;
    # the first three are unique, so the tuples sort without a key
    merged = [(h[0], 0, h[1], h[2], None) for h in history]
    merged += [(t.occurred_at, 1, t.index, t.delta, t) for t in fresh]
    merged.sort()
    balance = opening - sum(h[2] for h in history)
    start_balance, window_out, left, started = balance, 0, 0, False
    for at, _, _, delta, txn in merged:
        balance += delta
        if delta < 0:  # an outflow (amounts are positive, outflows' deltas negative)
            window_out -= delta
        edge = at - window
        while merged[left][0] <= edge:
            gone = merged[left][3]
            start_balance += gone
            if gone < 0:
                window_out += gone
            left += 1
        if not started:
            if txn is None:
                continue
            started = True
        if on_below:
            holds = balance < min_balance
            if holds and not below:
                pending.append(("BALANCE_BELOW_MINIMUM", {
                    "balance": format_fen(balance), "min_balance": format_fen(min_balance),
                    **_about(txn or at)}))
            below = holds
        if txn is None:
            continue
        if on_mismatch and txn.balance_after is not None:
            holds = txn.balance_after != balance
            if holds and not mismatch:
                pending.append(("BALANCE_MISMATCH", {
                    "bank_balance": format_fen(txn.balance_after),
                    "ledger_balance": format_fen(balance),
                    "difference": format_fen(txn.balance_after - balance), **_about(txn)}))
            mismatch = holds
        if delta < 0:
            if on_large:
                holds = txn.amount >= large_outflow
                if holds and not large:
                    pending.append(("LARGE_OUTFLOW", {
                        "amount": format_fen(txn.amount),
                        "threshold": format_fen(large_outflow),
                        "outflow_kind": txn.kind, **_about(txn)}))
                large = holds
            if blacklisted and txn.kind != "refund":
                pending.append(("OUTFLOW_WHILE_BLACKLISTED", {
                    "amount": format_fen(txn.amount), "outflow_kind": txn.kind, **_about(txn)}))
        if on_drain:
            holds = start_balance > 0 and window_out * 100 > share * start_balance
            if holds and not drain:
                pending.append(("RAPID_DRAIN", {
                    "outflows_in_window": format_fen(window_out),
                    "balance_at_window_start": format_fen(start_balance),
                    "window_hours": int(window.total_seconds() // 3600),
                    "max_share_percent": share, "balance": format_fen(balance),
                    **_about(txn)}))
            drain = holds
        if on_cap and txn.kind == "prepaid_income":
            broken = _caps_broken(txn, limits, cap_limits)
            if broken:
                caps.append((txn, broken))
                pending.append(("PREPAID_OVER_CAP", {
                    "rules": [code for code, _ in broken], "amount": format_fen(txn.amount),
                    "covers_lessons": txn.covers_lessons,
                    "covers_until": txn.covers_until.isoformat() if txn.covers_until else None,
                    **_about(txn)}))
    for kind, value in (("BALANCE_BELOW_MINIMUM", below), ("BALANCE_MISMATCH", mismatch),
                        ("LARGE_OUTFLOW", large), ("RAPID_DRAIN", drain)):
        if value is not None:
            held[kind] = value

    now = utcnow()
    for kind, holds in held.items():
        state = states.get(kind)
        if state is None:
            db.session.add(AlertState(account_id=account.id, kind=kind, active=holds,
                                      changed_at=now))
        elif state.active != holds:
            state.active, state.changed_at = holds, now
    raised = _raise(account, limits, pending)
    for txn, broken in caps:
        for code, message in broken:
            breaches.record(
                code, message, f"escrow:{code}:{account.bank_code}:{txn.bank_txn_id}",
                institution_id=account.institution_id, region_code=account.region_code,
                account_id=account.id,
                details={"bank_txn_id": txn.bank_txn_id, "amount": format_fen(txn.amount),
                         "covers_lessons": txn.covers_lessons,
                         "covers_until": txn.covers_until.isoformat() if txn.covers_until
                         else None, "occurred_at": clock.as_cst(txn.occurred_at).isoformat()})
    return raised


def _about(txn_or_time) -> dict:
    if isinstance(txn_or_time, datetime):
        return {"occurred_at": clock.as_cst(txn_or_time).isoformat()}
    return {"bank_txn_id": txn_or_time.bank_txn_id,
            "occurred_at": clock.as_cst(txn_or_time.occurred_at).isoformat()}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 -> 28/29 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _caps_broken(txn, limits: Limits, cap_limits: dict | None = None) -> list[tuple[str, str]]:
    """(rule, message) for each cap one prepaid income breaks. `cap_limits` caches the
    covered-until limit per payment day."""
    on, broken = limits.enabled, []
    if on["PREPAID_OVER_3_MONTHS"] and txn.covers_until is not None:
        paid_on = clock.as_cst(txn.occurred_at).date()
        limit = None if cap_limits is None else cap_limits.get(paid_on)
        if limit is None:
            limit = add_months(paid_on, limits.max_months)
            if cap_limits is not None:
                cap_limits[paid_on] = limit
        if txn.covers_until > limit:
            broken.append(("PREPAID_OVER_3_MONTHS",
                           f"一次性预收费覆盖期超过{limits.max_months}个月：交易{txn.bank_txn_id}"
                           f"于{paid_on}收取，覆盖至{txn.covers_until}（上限{limit}）。"))
    if on["PREPAID_OVER_60_LESSONS"] and txn.covers_lessons is not None \
            and txn.covers_lessons > limits.max_lessons:
        broken.append(("PREPAID_OVER_60_LESSONS",
                       f"一次性预收费超过{limits.max_lessons}课时：交易{txn.bank_txn_id}"
                       f"覆盖{txn.covers_lessons}课时。"))
    if on["PREPAID_OVER_5000"] and limits.amount_cap_applies and txn.amount > limits.max_amount:
        broken.append(("PREPAID_OVER_5000",
                       f"一次性预收费超过{format_fen(limits.max_amount)}元：交易{txn.bank_txn_id}"
                       f"金额{format_fen(txn.amount)}元。"))
    return broken


def _raise(account: EscrowAccount, limits: Limits, pending: list[tuple[str, dict]]) -> list:
    if not pending:
        return []
    if is_postgres():
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FEED_LOCK})
    uscc = db.session.scalar(sa.select(Institution.uscc)
                             .where(Institution.id == account.institution_id))
    now = utcnow()
    rows = [Alert(kind=kind, severity=limits.severity.get(kind, "high"), account_id=account.id,
                  account_number=account.account_number, bank_code=account.bank_code,
                  institution_id=account.institution_id, uscc=uscc,
                  region_code=account.region_code, created_at=now, details=details)
            for kind, details in pending]
    db.session.add_all(rows)
    db.session.flush()
    from registry.escrow import webhooks

    webhooks.enqueue_alerts(rows)
    return rows


# --- reading and acknowledging ---------------------------------------------------------------
def feed(actor: Principal, after: int, limit: int) -> tuple[list[Alert], int | None]:
    """Alerts after id `after` that the caller may see, ascending; and the next `after`."""
    stmt = accounts._scoped(sa.select(Alert), actor, Alert)
    items = db.session.scalars(stmt.where(Alert.id > after).order_by(Alert.id)
                               .limit(limit)).all()
    return items, (items[-1].id if items else (after or None))


def get(actor: Principal, alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None or not accounts.may_see(actor, alert):
        raise NotFound(f"no alert {alert_id}")
    return alert


def acknowledge(actor: Principal, alert_id: int) -> Alert:
    """Mark an alert seen; acknowledging twice keeps the first acknowledgement."""
    alert = get(actor, alert_id)
    if alert.acknowledged_at is None:
        before = _audit_view(alert)
        alert.acknowledged_at, alert.acknowledged_by = utcnow(), actor.name
        db.session.flush()
        audit.record("escrow_alert.ack", "escrow_alert", alert.id, before, _audit_view(alert))
    return alert


def _audit_view(alert: Alert) -> dict:
    view = snapshot(alert)
    view["account_number"] = mask_account(alert.account_number)
    return view


def as_dict(alert: Alert, full_number: bool) -> dict:
    """The alert as api.md lists it (for webhook bodies; the API has its own schema)."""
    return {
        "id": alert.id, "kind": alert.kind, "severity": alert.severity,
        "account_number": alert.account_number if full_number
        else mask_account(alert.account_number),
        "bank_code": alert.bank_code, "institution_id": alert.institution_id,
        "uscc": alert.uscc, "created_at": clock.as_cst(alert.created_at).isoformat(),
        "details": json.loads(json.dumps(alert.details or {})),
        "acknowledged_at": clock.as_cst(alert.acknowledged_at).isoformat()
        if alert.acknowledged_at else None,
    }
