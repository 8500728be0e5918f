"""The one source of 'now'. Instants are UTC; rules and dates are judged in Asia/Shanghai."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in China Standard Time."""
    return now().astimezone(CST).date()


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests, replays); None lets it run again."""
    global _frozen
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=CST)
    _frozen = at.astimezone(UTC) if at is not None else None


def as_cst(value: datetime) -> datetime:
    """An instant in China Standard Time; a naive value is taken to be CST already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=CST)
    return value.astimezone(CST)


def as_utc(value: datetime) -> datetime:
    return as_cst(value).astimezone(UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CST)
