"""Recording breaches: one rule broken by one thing is one breach, however often it is seen."""

import sqlalchemy as sa

from registry import audit
from registry.db import db, snapshot
from registry.rules.models import Breach, Rule


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
