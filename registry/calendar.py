"""The school calendar: statutory holidays and make-up working days (chinesecalendar for the
years it knows, days loaded or corrected by the regulator on top), and regional vacations.

`Calendar` is a plain value the rule checks read; a year the package lacks and that has no
loaded days falls back to "weekends are rest days" and says so."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import chinese_calendar
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry import audit, regions
from registry.access import Principal, check_scope
from registry.db import UTCDateTime, db, snapshot, utcnow
from registry.errors import Invalid

DAY_KINDS = ("holiday", "workday")
VACATION_KINDS = ("winter", "summer")

# what a day is, as the rules see it
WORKDAY, REST, HOLIDAY, MAKEUP = "workday", "rest", "holiday", "makeup"


class CalendarDay(db.Model):
    """A day loaded or corrected by the regulator; it wins over the built-in calendar."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str | None] = mapped_column(sa.String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Vacation(db.Model):
    """Winter or summer vacation of a region and every region under it."""

    __tablename__ = "vacations"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _builtin_years() -> tuple[int, int]:
    days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return min(days).year, max(days).year


BUILTIN_FIRST, BUILTIN_LAST = _builtin_years()


@dataclass
class Calendar:
    """Loaded days ({date: (kind, name)}) over the built-in calendar; cached per date."""

    loaded: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)
    _loaded_years: set = field(default_factory=set, repr=False)

    def __post_init__(self):
        self._loaded_years = {d.year for d in self.loaded}

    def known(self, year: int) -> bool:
        """Whether holidays of that year are known (built in or loaded)."""
        return BUILTIN_FIRST <= year <= BUILTIN_LAST or year in self._loaded_years

    def day(self, day: date) -> tuple[str, str | None]:
        """(kind, name): kind is workday | rest | holiday | makeup (a weekend made a workday)."""
        hit = self._cache.get(day)
        if hit is None:
            hit = self._cache[day] = self._judge(day)
        return hit

    def _judge(self, day: date) -> tuple[str, str | None]:
        weekend = day.weekday() >= 5
        if day in self.loaded:
            kind, name = self.loaded[day]
            if kind == "holiday":
                return HOLIDAY, name
            return (MAKEUP if weekend else WORKDAY), name
        if BUILTIN_FIRST <= day.year <= BUILTIN_LAST:
            name = chinese_calendar.holidays.get(day)
            if name is not None:
                return HOLIDAY, _NAMES.get(name, name)
            name = chinese_calendar.workdays.get(day)
            if name is not None:
                return (MAKEUP if weekend else WORKDAY), _NAMES.get(name, name)
        return (REST if weekend else WORKDAY), None


_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
          "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
          "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def load() -> Calendar:
    """The calendar with every day the regulator loaded."""
    rows = db.session.execute(sa.select(CalendarDay.day, CalendarDay.kind, CalendarDay.name))
    return Calendar({r.day: (r.kind, r.name) for r in rows})


def vacations_by_region() -> list[tuple[str, str, date, date]]:
    rows = db.session.execute(sa.select(Vacation.region_code, Vacation.kind, Vacation.starts_on,
                                        Vacation.ends_on).order_by(Vacation.starts_on))
    return [tuple(r) for r in rows]


def vacations_for(all_vacations, region_code: str) -> tuple:
    """The vacations in force in a region: its own and those of the regions above it."""
    return tuple((kind, start, end) for code, kind, start, end in all_vacations
                 if regions.covers(code, region_code))


def describe(day: date) -> dict:
    kind, name = load().day(day)
    return {"date": day, "kind": kind, "name": name,
            "calendar_loaded": load().known(day.year)}


def set_day(day: date, kind: str, name: str | None) -> CalendarDay:
    """Load or correct one day; courses with sessions that day are marked for re-evaluation."""
    from registry.rules import engine

    found = db.session.get(CalendarDay, day)
    before = snapshot(found) if found else None
    if found is None:
        found = CalendarDay(day=day, kind=kind, name=name)
        db.session.add(found)
    else:
        found.kind, found.name = kind, name
    db.session.flush()
    audit.record("calendar.set_day", "calendar_day", day.isoformat(), before, snapshot(found))
    engine.mark_stale_between(day, day)
    return found


def add_vacation(actor: Principal, data: dict) -> Vacation:
    code = data["region_code"]
    if not regions.exists(code):
        raise Invalid("region_code", f"{code} is not a GB/T 2260 region code")
    check_scope(actor, code)
    if data["ends_on"] < data["starts_on"]:
        raise Invalid("ends_on", "the vacation ends before it starts")
    if data["ends_on"] - data["starts_on"] > timedelta(days=120):
        raise Invalid("ends_on", "a vacation lasts at most 120 days")
    from registry.rules import engine

    vacation = Vacation(region_code=code, kind=data["kind"], starts_on=data["starts_on"],
                        ends_on=data["ends_on"])
    db.session.add(vacation)
    db.session.flush()
    audit.record("calendar.add_vacation", "vacation", vacation.id, None, snapshot(vacation))
    engine.mark_stale_between(vacation.starts_on, vacation.ends_on, region_code=code)
    return vacation


def list_vacations(actor: Principal, region: str | None = None):
    stmt = sa.select(Vacation).order_by(Vacation.starts_on, Vacation.id)
    if region:
        stmt = stmt.where(Vacation.region_code.in_(_ancestors(region))
                          | Vacation.region_code.startswith(regions.prefix(region)))
    return stmt


def _ancestors(code: str) -> list[str]:
    return [code[:2] + "0000", code[:4] + "00", code]
