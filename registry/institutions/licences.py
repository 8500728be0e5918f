"""The licence lifecycle as an explicit state machine, and the 'no new approvals' policy."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from registry import audit, clock
from registry.access import Principal
from registry.db import db, snapshot
from registry.errors import Conflict, Invalid, NotFound, PolicyRefused
from registry.institutions import services as institutions
from registry.institutions.models import COMPULSORY, Institution, Licence, LicenceEvent

# action -> {from state: to state}. Expiry is computed from the date, not stored.
TRANSITIONS: dict[str, dict[str, str]] = {
    "suspend": {"active": "suspended"},
    "reinstate": {"suspended": "active"},
    "revoke": {"active": "revoked", "suspended": "revoked"},
    "renew": {"active": "active", "suspended": "suspended"},
}

# Listeners called after any licence change (white list, rule re-evaluation...).
on_change: list = []


def new_approval_refusal(inst: Institution) -> str | None:
    """Why policy forbids a brand-new licence for this institution, or None when it allows one."""
    audiences = set(inst.audiences or ())
    if "preschool" in audiences:
        return "自2021年起不再审批新的面向学龄前儿童的校外培训机构"
    if inst.category == "subject" and audiences & set(COMPULSORY):
        return "自2021年起不再审批新的面向义务教育阶段学生的学科类校外培训机构"
    if inst.category == "subject" and "senior" in audiences:
        return "自2021年起不再审批新的面向普通高中学生的学科类校外培训机构"
    return None


def issue(actor: Principal, inst: Institution, data: dict) -> Licence:
    if data["basis"] == "new":
        reason = new_approval_refusal(inst)
        if reason:
            raise PolicyRefused(reason, code="no_new_approvals")
    if data["expires_on"] < data["issued_on"]:
        raise Invalid("expires_on", "the expiry date is before the issue date")
    number = data["number"].strip()
    if not number:
        raise Invalid("number", "the licence number must not be empty")
    if db.session.scalar(sa.select(Licence.id).where(Licence.number == number)):
        raise Conflict(f"licence number {number} exists already", code="duplicate_licence",
                       errors={"number": ["already exists"]})
    lic = Licence(institution_id=inst.id, number=number, issuer=data["issuer"].strip(),
                  issued_on=data["issued_on"], expires_on=data["expires_on"],
                  delivery=data["delivery"], basis=data["basis"], state="active")
    db.session.add(lic)
    db.session.flush()
    _event(lic, "issue", None, "active", None, lic.expires_on)
    audit.record("licence.issue", "licence", lic.id, None, snapshot(lic))
    _changed(lic)
    return lic


def get(actor: Principal, licence_id: int) -> Licence:
    lic = db.session.get(Licence, licence_id)
    if lic is None:
        raise NotFound(f"no licence {licence_id}")
    institutions.get(actor, lic.institution_id)  # scope check
    return lic


def query(actor: Principal, *, institution_id: int | None = None, status: str | None = None):
    """Licences the actor may see, oldest first; status is judged on today's date."""
    stmt = sa.select(Licence).join(Institution)
    scope = actor.region_prefix
    if scope is not None:
        stmt = stmt.where(Institution.region_code.startswith(scope))
    if institution_id is not None:
        stmt = stmt.where(Licence.institution_id == institution_id)
    if status:
        today = clock.today()
        if status == "expired":
            stmt = stmt.where(Licence.state != "revoked", Licence.expires_on < today)
        elif status == "revoked":
            stmt = stmt.where(Licence.state == "revoked")
        else:
            stmt = stmt.where(Licence.state == status, Licence.expires_on >= today)
    return stmt.options(selectinload(Licence.events)).order_by(Licence.id)


def transition(lic: Licence, action: str, reason: str) -> Licence:
    target = TRANSITIONS[action].get(lic.state)
    if target is None:
        raise Conflict(f"a {lic.state} licence cannot be {_past(action)}",
                       code="illegal_transition", extra={"state": lic.state, "action": action})
    if lic.status == "expired" and action in ("suspend", "reinstate"):
        raise Conflict(f"an expired licence cannot be {_past(action)}; renew it first",
                       code="illegal_transition", extra={"state": "expired", "action": action})
    before = snapshot(lic)
    lic.state = target
    db.session.flush()
    _event(lic, action, before["state"], target, reason, lic.expires_on)
    audit.record(f"licence.{action}", "licence", lic.id, before, snapshot(lic) | {"reason": reason})
    _changed(lic)
    return lic


def renewal_start(lic: Licence) -> date:
    """A renewal runs from the later of today and the old expiry, never from the old date alone."""
    return max(clock.today(), lic.expires_on)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer (Jan 31 -> Feb 28)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError("date out of range")


def renew(lic: Licence, expires_on: date | None = None, reason: str | None = None, *,
          term_months: int | None = None) -> Licence:
    """Extend the licence to `expires_on`, or by `term_months` from the later of today and the
    old expiry."""
    if TRANSITIONS["renew"].get(lic.state) is None:
        raise Conflict(f"a {lic.state} licence cannot be renewed", code="illegal_transition",
                       extra={"state": lic.state, "action": "renew"})
    start = renewal_start(lic)
    if (expires_on is None) == (term_months is None):
        raise Invalid("expires_on", "give either expires_on or term_months")
    if term_months is not None:
        if not 1 <= term_months <= 600:
            raise Invalid("term_months", "a term is 1 to 600 months")
        expires_on = add_months(start, term_months)
    if expires_on <= start:
        raise Invalid("expires_on", f"a renewal must run past {start.isoformat()}")
    before = snapshot(lic)
    lic.expires_on = expires_on
    db.session.flush()
    _event(lic, "renew", lic.state, lic.state, reason, expires_on)
    audit.record("licence.renew", "licence", lic.id, before, snapshot(lic))
    _changed(lic)
    return lic


def _event(lic, action, from_state, to_state, reason, expires_on) -> None:
    db.session.add(LicenceEvent(licence_id=lic.id, action=action, from_state=from_state,
                                to_state=to_state, reason=reason, expires_on=expires_on,
                                actor=audit.current_actor().name))
    db.session.flush()


def _changed(lic: Licence) -> None:
    for listener in on_change:
        listener(lic)


def _past(action: str) -> str:
    return {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}.get(action,
                                                                                       action)
