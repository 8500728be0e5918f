"""What the public may see: plain dicts built only from fields that carry no personal data.

The API's public schemas and the web pages both render these, so they cannot disagree.
"""

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from registry import clock, regions
from registry.db import db
from registry.errors import NotFound
from registry.institutions.models import Institution, Licence
from registry.lists import blacklist, whitelist
from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval
from registry.money import format_fen


def list_status(institution_id: int) -> str:
    """whitelisted | blacklisted | not_listed."""
    if blacklist.is_blacklisted(institution_id):
        return "blacklisted"
    return "whitelisted" if whitelist.is_listed(institution_id) else "not_listed"


def summary(inst: Institution) -> dict:
    return {"uscc": inst.uscc, "name": inst.name, "category": inst.category,
            "non_subject_type": inst.non_subject_type, "region_code": inst.region_code,
            "region_name": regions.full_name(inst.region_code), "address": inst.address,
            "delivery": inst.delivery}


def licence(lic, today: date) -> dict:
    """A licence as published (a Licence or a row of the same columns)."""
    return {"number": lic.number, "issuer": lic.issuer, "delivery": lic.delivery,
            "status": Licence.status_on(lic, today), "issued_on": lic.issued_on,
            "expires_on": lic.expires_on}


def licences(inst: Institution) -> list[dict]:
    today = clock.today()
    return [licence(lic, today)
            for lic in sorted(inst.licences, key=lambda lic: (lic.expires_on, lic.id),
                              reverse=True)]


def _blacklisted_now():
    """A correlated EXISTS: an unlifted black-list entry names the institution (see
    `blacklist.is_blacklisted`), so the profile learns it in the same round trip."""
    return (sa.select(BlacklistEntry.id)
            .outerjoin(BlacklistLift, BlacklistLift.entry_id == BlacklistEntry.id)
            .where(BlacklistEntry.institution_id == Institution.id, BlacklistLift.id.is_(None))
            .exists())


def _listed_since(intervals, today: date) -> datetime | None:
    """`whitelist.listed_since` from the institution's intervals (newest first), in memory:
    None unless an open interval covers today (`whitelist.is_listed`)."""
    if not any(r.listed_until is None and r.licensed_until >= today for r in intervals):
        return None
    return whitelist.unbroken_since(intervals)


def profile(uscc: str) -> dict:
    """The public profile of one institution, by its unified social credit code.

    Two round trips of its own (institution with licences and black-list flag; white-list
    intervals) plus one per PROFILE_PARTS entry; a blacklisted one adds the entry's reason.
    """
    row = db.session.execute(
        sa.select(Institution, _blacklisted_now().label("blacklisted"))
        .where(Institution.uscc == (uscc or "").strip().upper())
        .options(joinedload(Institution.licences))).unique().first()
    if row is None:
        raise NotFound(f"no institution with USCC {uscc}")
    inst, blacklisted = row
    intervals = db.session.execute(
        sa.select(WhitelistInterval.listed_from, WhitelistInterval.listed_until,
                  WhitelistInterval.licensed_until)
        .where(WhitelistInterval.institution_id == inst.id)
        .order_by(WhitelistInterval.listed_from.desc())).all()
    since = _listed_since(intervals, clock.today())
    listed = "whitelisted" if since is not None else "not_listed"
    status = "blacklisted" if blacklisted else listed
    entry = blacklist.entry_on(inst.id, clock.now()) if blacklisted else None
    out = summary(inst) | {
        "status": inst.status,
        "licences": licences(inst),
        "list_status": status,
        "whitelisted": status == "whitelisted",
        "listed_since": since,
        "blacklist": None if entry is None else {
            "reason_code": entry.reason_code, "reason": entry.reason,
            "decided_at": entry.decided_at},
        "teachers": [],
        "courses": [],
        "custody": None,
        "custody_accounts": [],
    }
    for part in PROFILE_PARTS:
        out.update(part([inst.id], db.session).get(inst.id, {}))
    return out


def among(column, ids: list[int], session):
    """`column IN ids`; on PostgreSQL one array parameter (= ANY), not a parameter per id that
    the driver would parse out of a long statement for every chunk."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.Integer)))
    return column.in_(ids)


def custody(ids: list[int], session) -> dict[int, dict]:
    """The custodian bank and the account, masked: parents check where they should pay."""
    from registry.escrow import mask_account
    from registry.escrow.models import Bank, EscrowAccount

    rows = session.execute(
        sa.select(EscrowAccount.institution_id, EscrowAccount.bank_code,
                  EscrowAccount.account_number, Bank.name)
        .outerjoin(Bank, Bank.code == EscrowAccount.bank_code)
        .where(among(EscrowAccount.institution_id, ids, session))
        .order_by(EscrowAccount.id.desc()))
    accounts: dict[int, list] = {}
    for r in rows:
        accounts.setdefault(r.institution_id, []).append({
            "bank_code": r.bank_code, "bank_name": r.name,
            "account_number": mask_account(r.account_number)})
    return {i: {"custody": a[0], "custody_accounts": a} for i, a in accounts.items()}


def teachers(ids: list[int], session) -> dict[int, dict]:
    """Name, qualification and subjects, as published at the premises; nothing personal."""
    from registry.staff.models import Staff

    rows = session.execute(  # only published facts: nothing personal is even loaded
        sa.select(Staff.institution_id, Staff.name,
                  Staff.teacher_cert_no.is_not(None).label("qualified"),
                  sa.cast(Staff.subjects, sa.Text).label("subjects"))  # parsed once, below
        .where(among(Staff.institution_id, ids, session), Staff.role == "teacher")
        .order_by(Staff.name, Staff.id))
    out: dict[int, dict] = {}
    for t in rows:
        qualified = bool(t.qualified)
        out.setdefault(t.institution_id, {"teachers": []})["teachers"].append({
            "name": t.name, "qualified": qualified,
            "qualification": "教师资格证" if qualified else None,
            "subjects": list(json.loads(t.subjects) or []) if t.subjects else []})
    return out


def courses(ids: list[int], session) -> dict[int, dict]:
    """Filed courses with their prices per lesson."""
    from registry.courses.models import Course

    rows = session.execute(
        sa.select(Course.institution_id, Course.title, Course.subject, Course.audience,
                  Course.delivery, Course.lesson_minutes, Course.price_per_lesson,
                  Course.class_size)
        .where(among(Course.institution_id, ids, session)).order_by(Course.id))
    out: dict[int, dict] = {}
    for c in rows:
        out.setdefault(c.institution_id, {"courses": []})["courses"].append({
            "title": c.title, "subject": c.subject, "audience": c.audience,
            "delivery": c.delivery, "lesson_minutes": c.lesson_minutes,
            "price_per_lesson": format_fen(c.price_per_lesson), "class_size": c.class_size})
    return out


# Parts other areas own, for many institutions at once: (ids, session) -> {id: {field: value}}
# (an institution with nothing to show is left out). The live profile and the stored one
# (registry.lists.profiles) both use them.
PROFILE_PARTS: list = [teachers, courses, custody]
