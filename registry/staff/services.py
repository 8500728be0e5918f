"""Registering and changing staff. The ID number is validated, encrypted at rest, found again
by its keyed hash, and only ever shown or logged masked."""

import sqlalchemy as sa

from registry import audit, crypto, identifiers
from registry.access import Principal, get_in_scope
from registry.db import db, snapshot
from registry.errors import Conflict, Invalid
from registry.institutions import services as institutions
from registry.institutions.models import Institution
from registry.rules import engine
from registry.staff.models import AUDIT_EXCLUDE, Staff

EDITABLE = ("name", "role", "teacher_cert_no", "subjects", "in_service_school_teacher",
            "nationality", "located_abroad", "full_time")


def _audit_view(staff: Staff) -> dict:
    return snapshot(staff, exclude=AUDIT_EXCLUDE)


def _clean(data: dict) -> dict:
    data = dict(data)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            raise Invalid("name", "the name must not be empty")
    if data.get("teacher_cert_no"):
        try:
            data["teacher_cert_no"] = identifiers.clean_teacher_cert(data["teacher_cert_no"])
        except ValueError as exc:
            raise Invalid("teacher_cert_no", str(exc)) from None
    elif "teacher_cert_no" in data:
        data["teacher_cert_no"] = None
    if "nationality" in data:
        data["nationality"] = data["nationality"].upper()
    if "subjects" in data:
        data["subjects"] = sorted(set(data["subjects"] or ()))
    return data


def _ric(value: str) -> str:
    try:
        return identifiers.clean_ric(value)
    except ValueError as exc:
        raise Invalid("id_number", str(exc)) from None


def add(actor: Principal, inst: Institution, data: dict) -> Staff:
    data = _clean(data)
    number = _ric(data.pop("id_number"))
    index = crypto.blind_index(number)
    if db.session.scalar(sa.select(Staff.id).where(Staff.institution_id == inst.id,
                                                   Staff.id_number_index == index)):
        raise Conflict("this person is on the institution's staff already",
                       code="duplicate_staff", errors={"id_number": ["already on the staff"]})
    staff = Staff(institution_id=inst.id, region_code=inst.region_code,
                  id_number_encrypted=crypto.encrypt(number), id_number_index=index,
                  id_number_masked=identifiers.mask_ric(number),
                  **{"in_service_school_teacher": False, "nationality": "CN",
                     "located_abroad": False, "full_time": True, "subjects": []} | data)
    db.session.add(staff)
    db.session.flush()
    audit.record("staff.add", "staff", staff.id, None, _audit_view(staff))
    engine.check_institution(inst.id)
    return staff


def get(actor: Principal, staff_id: int) -> Staff:
    return get_in_scope(actor, Staff, staff_id, "staff member")


def update(actor: Principal, staff: Staff, changes: dict) -> Staff:
    before = _audit_view(staff)
    changes = _clean(changes)
    if "id_number" in changes:
        number = _ric(changes.pop("id_number"))
        index = crypto.blind_index(number)
        if index != staff.id_number_index and db.session.scalar(sa.select(Staff.id).where(
                Staff.institution_id == staff.institution_id, Staff.id_number_index == index)):
            raise Conflict("this person is on the institution's staff already",
                           code="duplicate_staff", errors={"id_number": ["already on the staff"]})
        staff.id_number_encrypted = crypto.encrypt(number)
        staff.id_number_index = index
        staff.id_number_masked = identifiers.mask_ric(number)
    for key in EDITABLE:
        if key in changes:
            setattr(staff, key, changes[key])
    db.session.flush()
    after = _audit_view(staff)
    if after != before:
        audit.record("staff.update", "staff", staff.id, before, after)
        engine.check_institution(staff.institution_id)
    return staff


def for_institution(actor: Principal, institution_id: int):
    institutions.get(actor, institution_id)
    return sa.select(Staff).where(Staff.institution_id == institution_id).order_by(Staff.id)


def find(actor: Principal, id_number: str | None = None, name: str | None = None):
    """Staff in the caller's region; by ID number, every record of that person."""
    stmt = sa.select(Staff).order_by(Staff.id)
    scope = actor.region_prefix
    if scope is not None:
        stmt = stmt.where(Staff.region_code.startswith(scope))
    if id_number:
        stmt = stmt.where(Staff.id_number_index == crypto.blind_index(_ric(id_number)))
    if name:
        stmt = stmt.where(Staff.name == name.strip())
    return stmt


def reveal_id_number(staff: Staff) -> str:
    """The whole number, for a caller entitled to it (not exposed by the API)."""
    return crypto.decrypt(staff.id_number_encrypted)
