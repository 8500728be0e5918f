"""The black list: decisions to list an institution or an unlicensed operator, and to lift."""

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from registry import audit, clock, regions
from registry.access import Principal, check_scope, get_in_scope
from registry.db import db, snapshot
from registry.errors import Conflict, Invalid
from registry.institutions.models import Institution
from registry.lists.models import BlacklistEntry, BlacklistLift

_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_RIC = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def looks_personal(text: str | None) -> bool:
    """Whether published free text carries what looks like a resident ID or a mobile number."""
    from stdnum.cn import ric

    if not text:
        return False
    return bool(_PHONE.search(text)) or any(ric.is_valid(m) for m in _RIC.findall(text))


def is_blacklisted(institution_id: int) -> bool:
    """Whether an unlifted entry names this institution (custody and the white list ask)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(BlacklistEntry)
        .outerjoin(BlacklistLift, BlacklistLift.entry_id == BlacklistEntry.id)
        .where(BlacklistEntry.institution_id == institution_id, BlacklistLift.id.is_(None))) > 0


def add(actor: Principal, data: dict) -> BlacklistEntry:
    """Blacklist an institution (`institution_id`) or an unlicensed operator (`name`, `address`)."""
    from registry.lists import whitelist

    inst = None
    if data.get("institution_id") is not None:
        inst = db.session.get(Institution, data["institution_id"])
        if inst is None:
            raise Invalid("institution_id", f"no institution {data['institution_id']}")
        if is_blacklisted(inst.id):
            raise Conflict(f"institution {inst.id} is blacklisted already",
                           code="already_blacklisted")
        name, address, region_code, uscc = inst.name, inst.address, inst.region_code, inst.uscc
    else:
        name = (data.get("name") or "").strip()
        address = (data.get("address") or "").strip()
        if not name:
            raise Invalid("name", "give institution_id, or the operator's name and address")
        if not address:
            raise Invalid("address", "an unlicensed operator needs its address")
        region_code = data.get("region_code") or actor.region_code
        if not region_code or not regions.exists(region_code):
            raise Invalid("region_code", "name the region where the operator works")
        uscc = data.get("uscc")
    check_scope(actor, region_code)
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise Invalid("reason", "give the reason for blacklisting")
    for field, text in (("reason", reason), ("name", name), ("address", address)):
        if looks_personal(text):
            raise Invalid(field, "published text must not carry ID or phone numbers")
    entry = BlacklistEntry(
        institution_id=inst.id if inst else None, uscc=uscc, name=name, address=address,
        region_code=region_code, reason_code=data["reason_code"], reason=reason,
        evidence=_evidence(actor, data.get("evidence") or {}),
        decided_by=audit.current_actor().name, decided_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    audit.record("blacklist.add", "blacklist_entry", entry.id, None, snapshot(entry))
    if inst is not None:
        whitelist.recompute(inst, "blacklisted")
    return entry


def lift(actor: Principal, entry: BlacklistEntry, reason: str) -> BlacklistEntry:
    from registry.lists import whitelist

    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason", "give the reason for lifting")
    if entry.lift is not None:
        raise Conflict(f"black-list entry {entry.id} was lifted already", code="already_lifted")
    decision = BlacklistLift(entry_id=entry.id, reason=reason,
                             decided_by=audit.current_actor().name, decided_at=clock.now())
    db.session.add(decision)
    db.session.flush()
    db.session.refresh(entry, ["lift"])
    audit.record("blacklist.lift", "blacklist_entry", entry.id, None, snapshot(decision))
    if entry.institution_id is not None:
        whitelist.recompute(db.session.get(Institution, entry.institution_id), "blacklist_lifted")
    return entry


def get(actor: Principal, entry_id: int) -> BlacklistEntry:
    return get_in_scope(actor, BlacklistEntry, entry_id, "black-list entry")


def query(*, on: date | None = None, q: str | None = None, region: str | None = None,
          institution_id: int | None = None, scope: str | None = None,
          include_lifted: bool = False):
    """Entries in force now (or at the end of day `on`); a select for `paginate`."""
    lift = aliased(BlacklistLift)
    stmt = sa.select(BlacklistEntry).outerjoin(lift, lift.entry_id == BlacklistEntry.id)
    if on is not None:
        end = clock.start_of_day(on + timedelta(days=1))
        stmt = stmt.where(BlacklistEntry.decided_at < end,
                          sa.or_(lift.id.is_(None), lift.decided_at >= end))
    elif not include_lifted:
        stmt = stmt.where(lift.id.is_(None))
    if q and q.strip():
        q = q.strip()
        stmt = stmt.where(sa.or_(BlacklistEntry.name.contains(q, autoescape=True),
                                 BlacklistEntry.uscc == q.upper()))
    if region:
        stmt = stmt.where(BlacklistEntry.region_code.startswith(regions.prefix(region)))
    if scope is not None:
        stmt = stmt.where(BlacklistEntry.region_code.startswith(scope))
    if institution_id is not None:
        stmt = stmt.where(BlacklistEntry.institution_id == institution_id)
    return stmt.order_by(BlacklistEntry.decided_at.desc(), BlacklistEntry.id.desc())


def entry_on(institution_id: int, at: datetime) -> BlacklistEntry | None:
    """The entry naming the institution in force at an instant, if any."""
    stmt = query(institution_id=institution_id, include_lifted=True).where(
        BlacklistEntry.decided_at <= at)
    for entry in db.session.scalars(stmt):
        if entry.lift is None or entry.lift.decided_at > at:
            return entry
    return None


def _evidence(actor: Principal, evidence: dict) -> dict:
    from registry.complaints.models import Complaint
    from registry.rules.models import Breach

    out = {"breach_ids": sorted(set(evidence.get("breach_ids") or [])),
           "complaint_ids": sorted(set(evidence.get("complaint_ids") or [])),
           "documents": [d.strip() for d in evidence.get("documents") or [] if d.strip()]}
    for key, model in (("breach_ids", Breach), ("complaint_ids", Complaint)):
        for row_id in out[key]:
            row = db.session.get(model, row_id)
            if row is None or not actor.covers(row.region_code):
                raise Invalid("evidence", f"{key}: no {model.__tablename__[:-1]} {row_id} "
                                          "in your region")
    return out
