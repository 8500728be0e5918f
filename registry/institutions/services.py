"""Registering, finding and changing institutions."""

import sqlalchemy as sa

from registry import audit, identifiers, regions
from registry.access import Principal, check_scope, get_in_scope
from registry.db import db, snapshot
from registry.errors import Conflict, Invalid
from registry.institutions.models import Institution

SORTABLE = {"id", "name", "uscc", "region_code", "created_at", "updated_at"}
EDITABLE = ("name", "category", "non_subject_type", "audiences", "delivery", "legal_form",
            "region_code", "address", "status")

# Listeners called after an institution is registered or changed (the white list...).
on_change: list = []


def register(actor: Principal, data: dict) -> Institution:
    data = _clean(data)
    check_scope(actor, data["region_code"])
    if db.session.scalar(sa.select(Institution.id).where(Institution.uscc == data["uscc"])):
        raise Conflict(f"an institution with USCC {data['uscc']} is registered already",
                       code="duplicate_uscc", errors={"uscc": ["already registered"]})
    inst = Institution(**{"status": "active"} | data)
    db.session.add(inst)
    db.session.flush()
    audit.record("institution.register", "institution", inst.id, None, snapshot(inst))
    _changed(inst)
    return inst


def get(actor: Principal, institution_id: int) -> Institution:
    return get_in_scope(actor, Institution, institution_id, "institution")


def update(actor: Principal, inst: Institution, changes: dict) -> Institution:
    before = snapshot(inst)
    merged = {k: getattr(inst, k) for k in EDITABLE} | {"uscc": inst.uscc} | changes
    clean = _clean(merged)
    check_scope(actor, clean["region_code"])
    for key in EDITABLE:
        setattr(inst, key, clean[key])
    db.session.flush()
    after = snapshot(inst)
    if after != before:
        audit.record("institution.update", "institution", inst.id, before, after)
        _changed(inst)
    return inst


def query(actor: Principal, *, q=None, uscc=None, region=None, category=None, status=None,
          sort="id"):
    stmt = sa.select(Institution)
    scope = actor.region_prefix
    if scope is not None:
        stmt = stmt.where(Institution.region_code.startswith(scope))
    if q:
        stmt = stmt.where(Institution.name.contains(q.strip(), autoescape=True))
    if uscc:
        stmt = stmt.where(Institution.uscc == uscc.strip().upper())
    if region:
        stmt = stmt.where(Institution.region_code.startswith(regions.prefix(region)))
    if category:
        stmt = stmt.where(Institution.category == category)
    if status:
        stmt = stmt.where(Institution.status == status)
    desc = sort.startswith("-")
    column = getattr(Institution, sort.lstrip("-"))
    return stmt.order_by(column.desc() if desc else column, Institution.id)


def _changed(inst: Institution) -> None:
    for listener in on_change:
        listener(inst)



def _clean(data: dict) -> dict:
    data = dict(data)
    try:
        data["uscc"] = identifiers.clean_uscc(data["uscc"])
    except ValueError as exc:
        raise Invalid("uscc", str(exc)) from None
    data["name"] = (data.get("name") or "").strip()
    if not data["name"]:
        raise Invalid("name", "the name must not be empty")
    data["address"] = (data.get("address") or "").strip()
    if not data["address"]:
        raise Invalid("address", "the address must not be empty")
    if not regions.exists(data["region_code"]):
        raise Invalid("region_code", f"{data['region_code']} is not a GB/T 2260 region code")
    if data["category"] == "non_subject" and not data.get("non_subject_type"):
        raise Invalid("non_subject_type", "a non-subject institution needs its type")
    if data["category"] == "subject":
        data["non_subject_type"] = None
    data["audiences"] = sorted(set(data["audiences"]), key=("preschool", "primary", "junior",
                                                            "senior").index)
    if not data["audiences"]:
        raise Invalid("audiences", "name at least one audience")
    return data
