"""Reading rule parameters for a region: base parameters, then overrides from the broadest
region to the most specific, each overriding the keys it names."""

import sqlalchemy as sa

from registry import audit, regions
from registry.db import db
from registry.errors import Invalid, NotFound
from registry.money import parse_yuan
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


def params_of(codes, region_code: str | None = None) -> dict[str, tuple[str, dict]]:
    """code -> (severity, parameters in force in `region_code`) for several rules at once, in
    two plain queries (where `params` takes two ORM queries per rule)."""
    rules = {r.code: r for r in db.session.execute(
        sa.select(Rule.code, Rule.severity, Rule.params, Rule.enabled)
        .where(Rule.code.in_(codes)))}
    missing = [code for code in codes if code not in rules]
    if missing:
        raise NotFound(f"no rule {missing[0]}")
    overrides: dict[str, list] = {code: [] for code in codes}
    if region_code:
        scopes = {region_code[:2] + "0000", region_code[:4] + "00", region_code}
        for o in db.session.execute(
                sa.select(RuleOverride.rule_code, RuleOverride.region_code,
                          RuleOverride.params, RuleOverride.enabled)
                .where(RuleOverride.rule_code.in_(codes),
                       RuleOverride.region_code.in_(scopes))):
            if regions.covers(o.region_code, region_code):
                overrides[o.rule_code].append(o)
    out = {}
    for code in codes:
        base = rules[code]
        merged, enabled = dict(base.params or {}), base.enabled
        for override in sorted(overrides[code], key=lambda o: len(regions.prefix(o.region_code))):
            merged.update(override.params or {})
            if override.enabled is not None:
                enabled = override.enabled
        merged["enabled"] = enabled
        out[code] = (base.severity, merged)
    return out


def _overrides_for(code: str, region_code: str) -> list[RuleOverride]:
    rows = db.session.scalars(sa.select(RuleOverride).where(RuleOverride.rule_code == code)).all()
    hits = [o for o in rows if regions.covers(o.region_code, region_code)]
    return sorted(hits, key=lambda o: len(regions.prefix(o.region_code)))


def all_rules():
    return sa.select(Rule).order_by(Rule.group, Rule.code)


def overrides_of(code: str) -> list[RuleOverride]:
    return list(db.session.scalars(sa.select(RuleOverride).where(RuleOverride.rule_code == code)
                                   .order_by(RuleOverride.region_code)))


def _check_params(code: str, base: dict, given: dict, field: str) -> dict:
    """Only known parameters, each of the type it has in the catalogue."""
    for key, value in given.items():
        if key not in base:
            raise Invalid(field, f"{code} has no parameter {key!r}; it has: "
                                 f"{', '.join(sorted(base)) or 'none'}")
        if type(value) is not type(base[key]) and not (
                isinstance(base[key], int | float) and isinstance(value, int | float)
                and not isinstance(value, bool)):
            raise Invalid(field, f"parameter {key!r} must be a {type(base[key]).__name__}")
        if isinstance(base[key], dict):
            _check_params(code, base[key], value, field)
        if isinstance(base[key], str) and _is_money(base[key]):
            try:
                parse_yuan(value)
            except ValueError:
                raise Invalid(field, f"parameter {key!r} must be yuan, e.g. \"60.00\"") from None
        if key == "latest_end" and not _is_clock(value):
            raise Invalid(field, "latest_end must be a time of day HH:MM")
    return given


def _is_money(text: str) -> bool:
    try:
        parse_yuan(text)
        return "." in text
    except ValueError:
        return False


def _is_clock(text: str) -> bool:
    hours, _, minutes = text.partition(":")
    return (hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and 0 <= int(hours) < 24 and 0 <= int(minutes) < 60)


def update(code: str, changes: dict) -> Rule:
    """Change a rule and its regional overrides (admin); the courses it can touch are marked
    for re-evaluation."""
    from registry.rules import engine

    found = rule(code)
    before = _view(found)
    base = dict(found.params or {})
    if "params" in changes:
        found.params = base | _check_params(code, base, changes["params"], "params")
    for key in ("title", "description", "severity", "enabled"):
        if key in changes:
            setattr(found, key, changes[key])
    touched: set[str | None] = set()
    if "params" in changes or "enabled" in changes:
        touched.add(None)
    for item in changes.get("overrides") or ():
        region = item["region_code"]
        if not regions.exists(region):
            raise Invalid("overrides", f"{region} is not a GB/T 2260 region code")
        existing = db.session.scalar(sa.select(RuleOverride).where(
            RuleOverride.rule_code == code, RuleOverride.region_code == region))
        if item.get("remove"):
            if existing is not None:
                db.session.delete(existing)
        else:
            params = _check_params(code, base, item.get("params") or {}, "overrides")
            if existing is None:
                existing = RuleOverride(rule_code=code, region_code=region, params={})
                db.session.add(existing)
            existing.params = dict(existing.params or {}) | params
            if "enabled" in item:
                existing.enabled = item["enabled"]
        touched.add(region)
    db.session.flush()
    db.session.refresh(found)
    after = _view(found)
    audit.record("rule.update", "rule", code, before, after)
    for region in touched:
        engine.mark_stale_region(region)
    return found


def _view(found: Rule) -> dict:
    return {"code": found.code, "title": found.title, "description": found.description,
            "severity": found.severity, "enabled": found.enabled, "params": found.params,
            "overrides": [{"region_code": o.region_code, "params": o.params,
                           "enabled": o.enabled} for o in overrides_of(found.code)]}
