"""Complaints: the public files them, supervisors triage them in their region."""

import re
import secrets

import sqlalchemy as sa

from registry import audit, clock, crypto, identifiers, regions
from registry.access import Principal, get_in_scope
from registry.complaints.models import Complaint
from registry.db import db, snapshot
from registry.errors import Forbidden, Invalid, NotFound
from registry.institutions.models import Institution

_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def file(data: dict) -> Complaint:
    """Record a complaint from the public; returns it with its reference."""
    inst = None
    uscc = (data.get("uscc") or "").strip().upper() or None
    name = (data.get("institution_name") or "").strip() or None
    if uscc:
        try:
            uscc = identifiers.clean_uscc(uscc)
        except ValueError as exc:
            raise Invalid("uscc", str(exc)) from None
        inst = db.session.scalar(sa.select(Institution).where(Institution.uscc == uscc))
    elif not name:
        raise Invalid("uscc", "name the institution: its uscc or institution_name")
    region_code = inst.region_code if inst else data.get("region_code")
    if region_code and not regions.exists(region_code):
        raise Invalid("region_code", f"{region_code} is not a GB/T 2260 region code")
    description = data["description"].strip()
    if not description:
        raise Invalid("description", "describe what happened")
    contact = (data.get("contact") or "").strip() or None
    complaint = Complaint(
        reference=_reference(), institution_id=inst.id if inst else None, uscc=uscc,
        institution_name=name or (inst.name if inst else None), region_code=region_code,
        category=data["category"], description=description, contact_enc=crypto.encrypt(contact),
        status="received", breach_ids=[], received_at=clock.now())
    db.session.add(complaint)
    db.session.flush()
    audit.record("complaint.file", "complaint", complaint.id, None, _audit_view(complaint))
    return complaint


def get(actor: Principal, complaint_id: int) -> Complaint:
    return get_in_scope(actor, Complaint, complaint_id, "complaint")


def query(actor: Principal, *, status=None, category=None, institution_id=None):
    stmt = sa.select(Complaint)
    scope = actor.region_prefix
    if scope is not None:
        stmt = stmt.where(Complaint.region_code.startswith(scope))
    if status:
        stmt = stmt.where(Complaint.status == status)
    if category:
        stmt = stmt.where(Complaint.category == category)
    if institution_id is not None:
        stmt = stmt.where(Complaint.institution_id == institution_id)
    return stmt.order_by(Complaint.id.desc())


def triage(actor: Principal, complaint: Complaint, changes: dict) -> Complaint:
    """Set status and note, and link breaches or a black-list decision."""
    from registry.lists.blacklist import get as get_entry
    from registry.rules.models import Breach

    before = _audit_view(complaint)
    if "breach_ids" in changes:
        ids = sorted(set(changes["breach_ids"] or []))
        for breach_id in ids:
            breach = db.session.get(Breach, breach_id)
            if breach is None or not actor.covers(breach.region_code):
                raise Invalid("breach_ids", f"no breach {breach_id} in your region")
        complaint.breach_ids = ids
    if "blacklist_entry_id" in changes:
        entry_id = changes["blacklist_entry_id"]
        if entry_id is not None:
            try:
                get_entry(actor, entry_id)
            except (NotFound, Forbidden):
                raise Invalid("blacklist_entry_id",
                              f"no black-list entry {entry_id} in your region") from None
        complaint.blacklist_entry_id = entry_id
    if "status" in changes:
        complaint.status = changes["status"]
    if "note" in changes:
        complaint.note = changes["note"]
    if "region_code" in changes and complaint.institution_id is None:
        code = changes["region_code"]
        if not regions.exists(code) or not actor.covers(code):
            raise Invalid("region_code", f"{code} is not a region in your scope")
        complaint.region_code = code
    db.session.flush()
    after = _audit_view(complaint)
    if after != before:
        audit.record("complaint.triage", "complaint", complaint.id, before, after)
    return complaint


def masked_contact(complaint: Complaint) -> str | None:
    """The contact as supervisors see it: enough to recognise, not enough to use."""
    return mask_contact(crypto.decrypt(complaint.contact_enc))


def mask_contact(contact: str | None) -> str | None:
    if not contact:
        return None
    if re.fullmatch(r"\+?[\d\- ]{7,}", contact):
        digits = re.sub(r"\D", "", contact)
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if "@" in contact:
        user, _, domain = contact.partition("@")
        return (user[:1] or "*") + "***@" + domain
    return contact[:1] + "*" * max(len(contact) - 1, 2)


def _audit_view(complaint: Complaint) -> dict:
    return snapshot(complaint, exclude=("contact_enc", "description")) | {
        "has_contact": complaint.contact_enc is not None}


def _reference() -> str:
    stamp = clock.now().astimezone(clock.CST).strftime("%Y%m%d")
    for _ in range(5):
        ref = "TS" + stamp + "-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        if not db.session.scalar(sa.select(Complaint.id).where(Complaint.reference == ref)):
            return ref
    raise RuntimeError("could not draw a unique complaint reference")
