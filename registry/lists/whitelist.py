"""The white list, derived from state and kept as append-only intervals of membership.

An institution is listed while it is active, holds a licence valid today and is not
blacklisted. `recompute` is called on every change that can affect that; `refresh` catches
what changes with the date alone (licences expiring, licences whose term starts).
"""

import contextlib
import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from registry import audit, clock, regions
from registry.db import db, is_postgres
from registry.institutions.models import Institution, Licence
from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval

USCC_LENGTH = 18


def _day_end(day: date) -> datetime:
    """The instant the day ends (midnight after it, CST): 'listed on D' is judged then."""
    return clock.start_of_day(day + timedelta(days=1))


def open_interval(institution_id: int) -> WhitelistInterval | None:
    return db.session.scalar(sa.select(WhitelistInterval).where(
        WhitelistInterval.institution_id == institution_id,
        WhitelistInterval.listed_until.is_(None)))


def _licences(institution_id: int) -> list[Licence]:
    return db.session.scalars(sa.select(Licence).where(
        Licence.institution_id == institution_id).order_by(Licence.id)).all()


def valid_licences(institution_id: int, day: date) -> list[Licence]:
    return [lic for lic in _licences(institution_id) if lic.valid_on(day)]


def qualifies(inst: Institution, day: date | None = None,
              licences: list[Licence] | None = None) -> date | None:
    """The last day its licences cover when it belongs on the list on `day`, else None."""
    from registry.lists.blacklist import is_blacklisted

    day = day or clock.today()
    if inst.status != "active" or is_blacklisted(inst.id):
        return None
    if licences is None:
        licences = _licences(inst.id)
    valid = [lic for lic in licences if lic.valid_on(day)]
    return max(lic.expires_on for lic in valid) if valid else None


def shown(licences: list[Licence], day: date) -> Licence | None:
    """The licence the white list shows: of those active on `day`, the one that runs longest
    (the lowest id of equals). While the institution is listed this does not change with the
    date: it runs at least as long as any valid licence, so it can only lapse with them all."""
    active = [lic for lic in licences if lic.status_on(day) == "active"]
    return max(sorted(active, key=lambda lic: lic.id), key=lambda lic: lic.expires_on,
               default=None)


def recompute(inst: Institution, cause: str) -> bool:
    """Bring the intervals in line with the institution's state now; returns whether listed."""
    now, today = clock.now(), clock.today()
    if is_postgres():  # one writer per institution, so two changes never open two intervals
        db.session.execute(sa.select(Institution.id).where(Institution.id == inst.id)
                           .with_for_update(key_share=True))  # see engine.check_institution
    licences = _licences(inst.id)
    licensed_until = qualifies(inst, today, licences)
    lic = shown(licences, today)
    number, expires_on = (lic.number, lic.expires_on) if lic else (None, None)
    current = open_interval(inst.id)
    if current is not None:
        lapsed = current.licensed_until < today
        if not lapsed and current.licensed_until == licensed_until:
            if (current.licence_number, current.licence_expires_on) != (number, expires_on):
                # what the list shows, derived like an index: the licence change that moved
                # it is audited where it was made
                current.licence_number, current.licence_expires_on = number, expires_on
                db.session.flush()
            return True
        # it left the list when its licence ran out, or now for any other cause
        _close(current, min(now, _day_end(current.licensed_until)),
               "licence_expired" if lapsed else cause)
    if licensed_until is None:
        return False
    interval = WhitelistInterval(institution_id=inst.id, listed_from=now,
                                 licensed_until=licensed_until, opened_by=cause[:60],
                                 licence_number=number, licence_expires_on=expires_on)
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


@contextlib.contextmanager
def custom_plans():
    """Run the statements inside unprepared, so PostgreSQL plans each for its own values.

    psycopg prepares a statement once it has run a few times, and PostgreSQL may then keep one
    generic plan for every value. A name search matches anything from a handful of names to
    half the list, and the right plan differs (walk the name index, or ask the character
    index): a generic plan chose the character index for "培训" and took 5x longer."""
    if not is_postgres():
        yield
        return
    raw = db.session.connection().connection.driver_connection
    saved, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        yield
    finally:
        raw.prepare_threshold = saved


LISTED_COLUMNS = (Institution.id, Institution.uscc, Institution.name, Institution.category,
                  Institution.non_subject_type, Institution.region_code, Institution.address,
                  Institution.delivery, WhitelistInterval.licence_number,
                  WhitelistInterval.licence_expires_on)


BROAD = 0.05  # share of names: a word at least this common is found soonest in name order
SAMPLE_SECONDS = 600
_sample: dict = {"at": -SAMPLE_SECONDS, "names": ()}


def sampled_names() -> tuple[str, ...]:
    """PostgreSQL's own sample of names (the statistics' histogram), re-read every 10 min."""
    if time.monotonic() - _sample["at"] >= SAMPLE_SECONDS:
        names = db.session.scalar(sa.text(
            "SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = "
            "current_schema() AND tablename = 'institutions' AND attname = 'name'"))
        _sample.update(at=time.monotonic(), names=tuple(names or ()))
    return _sample["names"]


def is_broad(q: str) -> bool:
    """Whether at least BROAD of the sampled names contain q (unknown without statistics)."""
    names = sampled_names()
    return len(names) >= 20 and sum(q in name for name in names) >= BROAD * len(names)


def is_broad_word(q: str) -> bool:
    """`is_broad` where there are statistics to tell (PostgreSQL), else False."""
    return is_postgres() and is_broad(q)


def name_contains(q: str):
    """`name LIKE '%q%'`; on PostgreSQL a 1-2 character q that is not broad also asks the
    character index for the names holding all its characters (pg_trgm serves 3 or more).

    The planner multiplies the two conditions' selectivities as if independent, but "艺" and
    "术" come together: it would take "艺术" (a fifth of the names) for a rare word and read
    every candidate through the index. A broad word is left to the LIKE alone, which the
    planner estimates from the same sample, and walks the name index until a page is full."""
    cond = Institution.name.contains(q, autoescape=True)
    if len(q) <= 2 and is_postgres() and not is_broad(q):
        chars = sa.func.string_to_array(Institution.name, sa.null(),
                                        type_=postgresql.ARRAY(sa.Text))
        cond = sa.and_(chars.contains(sorted(set(q))), cond)
    return cond


def search(*, q: str | None = None, region: str | None = None, category: str | None = None,
           on: date | None = None):
    """The white list as plain rows (`LISTED_COLUMNS`, no ORM objects), by name (or an exact
    USCC), region and category, ordered by name: a select for `paginate`."""
    stmt = (sa.select(*LISTED_COLUMNS)
            .join(WhitelistInterval, WhitelistInterval.institution_id == Institution.id)
            .where(listed_condition(on)))
    if q and q.strip():
        q = q.strip()
        cond = name_contains(q)
        if len(q) == USCC_LENGTH:  # no shorter text can equal a USCC
            cond = sa.or_(cond, Institution.uscc == q.upper())
        stmt = stmt.where(cond)
    if region:
        stmt = stmt.where(Institution.region_code.startswith(regions.prefix(region)))
    if category:
        stmt = stmt.where(Institution.category == category)
    return stmt.order_by(Institution.name, Institution.id)
