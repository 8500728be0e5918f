"""Recording breaches: one rule broken by one thing is one breach, however often it is seen."""

import sqlalchemy as sa

from registry import audit, regions
from registry.access import Principal, get_in_scope
from registry.db import db, snapshot
from registry.errors import Conflict
from registry.rules.models import Breach, BreachEvent, Rule


def record(rule: str, message: str, dedupe_key: str, *, institution_id: int | None = None,
           region_code: str | None = None, severity: str | None = None,
           details: dict | None = None, **refs) -> Breach:
    """Open a breach, or return the one already recorded under the same key (reopening a
    resolved one). `refs` are course_id, session_id, staff_id, account_id."""
    found = db.session.scalar(sa.select(Breach).where(Breach.dedupe_key == dedupe_key))
    if found is not None:
        if found.status == "resolved":
            before = snapshot(found)
            found.status, found.message, found.details = "open", message, details
            db.session.flush()
            audit.record("breach.reopen", "breach", found.id, before, snapshot(found))
        return found
    if severity is None:
        catalogued = db.session.get(Rule, rule)
        severity = catalogued.severity if catalogued else "medium"
    breach = Breach(rule=rule, message=message, dedupe_key=dedupe_key, severity=severity,
                    institution_id=institution_id, region_code=region_code, details=details,
                    **refs)
    db.session.add(breach)
    db.session.flush()
    audit.record("breach.open", "breach", breach.id, None, snapshot(breach))
    return breach


# status -> statuses it may move to by a supervisor's decision
TRANSITIONS = {
    "open": ("confirmed", "dismissed", "resolved"),
    "confirmed": ("resolved", "dismissed"),
    "dismissed": ("resolved", "open"),
    "resolved": ("open",),
}


def get(actor: Principal, breach_id: int) -> Breach:
    return get_in_scope(actor, Breach, breach_id, "breach")


def history(breach: Breach) -> list[BreachEvent]:
    return list(db.session.scalars(sa.select(BreachEvent).where(
        BreachEvent.breach_id == breach.id).order_by(BreachEvent.id)))


def change_status(actor: Principal, breach: Breach, status: str, note: str) -> Breach:
    """A supervisor's decision on a breach, with its note (kept in the breach's history)."""
    if status == breach.status:
        raise Conflict(f"the breach is {status} already", code="illegal_transition")
    if status not in TRANSITIONS.get(breach.status, ()):
        raise Conflict(f"a {breach.status} breach cannot become {status}",
                       code="illegal_transition",
                       extra={"breach_status": breach.status, "allowed": list(
                           TRANSITIONS.get(breach.status, ()))})
    before = snapshot(breach)
    db.session.add(BreachEvent(breach_id=breach.id, from_status=breach.status, to_status=status,
                               note=note, actor=actor.name))
    breach.status = status
    db.session.flush()
    audit.record("breach.status", "breach", breach.id, before, snapshot(breach) | {"note": note})
    return breach


def query(actor: Principal, *, institution_id=None, rule=None, status=None, region=None,
          course_id=None, session_id=None, staff_id=None, severity=None):
    stmt = sa.select(Breach)
    scope = actor.region_prefix
    if scope is not None:
        stmt = stmt.where(Breach.region_code.startswith(scope))
    for column, value in ((Breach.institution_id, institution_id), (Breach.rule, rule),
                          (Breach.status, status), (Breach.course_id, course_id),
                          (Breach.session_id, session_id), (Breach.staff_id, staff_id),
                          (Breach.severity, severity)):
        if value is not None:
            stmt = stmt.where(column == value)
    if region:
        stmt = stmt.where(Breach.region_code.startswith(regions.prefix(region)))
    return stmt.order_by(Breach.id.desc())
