"""The white list, derived from state and kept as append-only intervals of membership.

An institution is listed while it is active, holds a licence valid today and is not
blacklisted. `recompute` is called on every change that can affect that; `refresh` catches
what changes with the date alone (licences expiring, licences whose term starts).
"""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from registry import audit, clock, regions
from registry.db import db, is_postgres
from registry.institutions.models import Institution, Licence
from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval


def _day_end(day: date) -> datetime:
    """The instant the day ends (midnight after it, CST): 'listed on D' is judged then."""
    return clock.start_of_day(day + timedelta(days=1))


def open_interval(institution_id: int) -> WhitelistInterval | None:
    return db.session.scalar(sa.select(WhitelistInterval).where(
        WhitelistInterval.institution_id == institution_id,
        WhitelistInterval.listed_until.is_(None)))


def valid_licences(institution_id: int, day: date) -> list[Licence]:
    rows = db.session.scalars(sa.select(Licence).where(Licence.institution_id == institution_id))
    return [lic for lic in rows if lic.valid_on(day)]


def qualifies(inst: Institution, day: date | None = None) -> date | None:
    """The last day its licences cover when it belongs on the list on `day`, else None."""
    from registry.lists.blacklist import is_blacklisted

    day = day or clock.today()
    if inst.status != "active" or is_blacklisted(inst.id):
        return None
    valid = valid_licences(inst.id, day)
    return max(lic.expires_on for lic in valid) if valid else None


def recompute(inst: Institution, cause: str) -> bool:
    """Bring the intervals in line with the institution's state now; returns whether listed."""
    now, today = clock.now(), clock.today()
    if is_postgres():  # one writer per institution, so two changes never open two intervals
        db.session.execute(sa.select(Institution.id).where(Institution.id == inst.id)
                           .with_for_update())
    licensed_until = qualifies(inst, today)
    current = open_interval(inst.id)
    if current is not None:
        lapsed = current.licensed_until < today
        if not lapsed and current.licensed_until == licensed_until:
            return True
        # it left the list when its licence ran out, or now for any other cause
        _close(current, min(now, _day_end(current.licensed_until)),
               "licence_expired" if lapsed else cause)
    if licensed_until is None:
        return False
    interval = WhitelistInterval(institution_id=inst.id, listed_from=now,
                                 licensed_until=licensed_until, opened_by=cause[:60])
    db.session.add(interval)
    db.session.flush()
    audit.record("whitelist.list", "institution", inst.id, None,
                 {"interval_id": interval.id, "licensed_until": licensed_until, "cause": cause})
    return True


def _close(interval: WhitelistInterval, at: datetime, cause: str) -> None:
    interval.listed_until = max(at, interval.listed_from)
    interval.closed_by = cause[:60]
    db.session.flush()
    audit.record("whitelist.delist", "institution", interval.institution_id, None,
                 {"interval_id": interval.id, "listed_until": interval.listed_until,
                  "cause": cause})


def refresh(full: bool = False) -> dict:
    """Apply what the date changed: lapsed intervals close, newly valid licences list.

    Idempotent, so it is safe from cron at any hour; `full` recomputes every institution.
    """
    today = clock.today()
    if full:
        ids = db.session.scalars(sa.select(Institution.id).order_by(Institution.id)).all()
    else:
        lapsed = sa.select(WhitelistInterval.institution_id).where(
            WhitelistInterval.listed_until.is_(None), WhitelistInterval.licensed_until < today)
        listed = sa.select(WhitelistInterval.institution_id).where(
            WhitelistInterval.listed_until.is_(None))
        blacklisted = sa.select(BlacklistEntry.institution_id).outerjoin(
            BlacklistLift, BlacklistLift.entry_id == BlacklistEntry.id).where(
            BlacklistEntry.institution_id.is_not(None), BlacklistLift.id.is_(None))
        unlisted_valid = sa.select(Licence.institution_id).join(Institution).where(
            Institution.status == "active", Licence.state == "active",
            Licence.issued_on <= today, Licence.expires_on >= today,
            Licence.institution_id.not_in(listed), Licence.institution_id.not_in(blacklisted))
        ids = sorted(set(db.session.scalars(lapsed)) | set(db.session.scalars(unlisted_valid)))
    listed_before = _count_listed(today)
    for start in range(0, len(ids), 200):
        chunk = db.session.scalars(sa.select(Institution).where(
            Institution.id.in_(ids[start:start + 200])).order_by(Institution.id)).all()
        for inst in chunk:
            recompute(inst, "refresh")
        db.session.expunge_all()  # flushed already; a small identity map keeps flushes cheap
    return {"checked": len(ids), "listed_before": listed_before,
            "listed_after": _count_listed(today)}


def _count_listed(today: date) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WhitelistInterval).where(
        WhitelistInterval.listed_until.is_(None), WhitelistInterval.licensed_until >= today))


def listed_condition(on: date | None = None):
    """A SQL condition on WhitelistInterval: in force now, or at the end of day `on`."""
    if on is None:
        return sa.and_(WhitelistInterval.listed_until.is_(None),
                       WhitelistInterval.licensed_until >= clock.today())
    end = _day_end(on)
    return sa.and_(WhitelistInterval.listed_from < end,
                   sa.or_(WhitelistInterval.listed_until.is_(None),
                          WhitelistInterval.listed_until >= end),
                   WhitelistInterval.licensed_until >= on)


def is_listed(institution_id: int, on: date | None = None) -> bool:
    """Whether the institution is on the white list now, or was at the end of day `on`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(WhitelistInterval).where(
        WhitelistInterval.institution_id == institution_id, listed_condition(on))) > 0


def listed_since(institution_id: int) -> datetime | None:
    """When the current unbroken membership began (adjacent intervals count as one)."""
    rows = db.session.scalars(sa.select(WhitelistInterval).where(
        WhitelistInterval.institution_id == institution_id)
        .order_by(WhitelistInterval.listed_from.desc())).all()
    if not rows or not is_listed(institution_id):
        return None
    return unbroken_since(rows)


def unbroken_since(intervals) -> datetime:
    """The start of the unbroken run of listing that the newest interval ends (newest first)."""
    since = intervals[0].listed_from
    for row in intervals[1:]:
        if row.listed_until is None or row.listed_until < since:
            break
        since = row.listed_from
    return since


def search(*, q: str | None = None, region: str | None = None, category: str | None = None,
           on: date | None = None):
    """Institutions on the white list (a select for `paginate`), by name, region, category."""
    stmt = (sa.select(Institution)
            .join(WhitelistInterval, WhitelistInterval.institution_id == Institution.id)
            .where(listed_condition(on)))
    if q and q.strip():
        q = q.strip()
        stmt = stmt.where(sa.or_(Institution.name.contains(q, autoescape=True),
                                 Institution.uscc == q.upper()))
    if region:
        stmt = stmt.where(Institution.region_code.startswith(regions.prefix(region)))
    if category:
        stmt = stmt.where(Institution.category == category)
    return stmt.order_by(Institution.name, Institution.id)
