"""Reading rule parameters for a region: base parameters, then overrides from the broadest
region to the most specific, each overriding the keys it names."""

import sqlalchemy as sa

from registry import regions
from registry.db import db
from registry.errors import NotFound
from registry.rules.models import Rule, RuleOverride


def rule(code: str) -> Rule:
    found = db.session.get(Rule, code)
    if found is None:
        raise NotFound(f"no rule {code}")
    return found


def params(code: str, region_code: str | None = None) -> dict:
    """The parameters of rule `code` in force in `region_code` (plus `enabled`)."""
    base = rule(code)
    merged = dict(base.params or {})
    enabled = base.enabled
    if region_code:
        for override in _overrides_for(code, region_code):
            merged.update(override.params or {})
            if override.enabled is not None:
                enabled = override.enabled
    merged["enabled"] = enabled
    return merged


def _overrides_for(code: str, region_code: str) -> list[RuleOverride]:
    rows = db.session.scalars(sa.select(RuleOverride).where(RuleOverride.rule_code == code)).all()
    hits = [o for o in rows if regions.covers(o.region_code, region_code)]
    return sorted(hits, key=lambda o: len(regions.prefix(o.region_code)))
