"""Stored public profiles: each institution's public profile rendered once, as it is served.

The lookup by USCC reads one row and returns its bytes. Rows are rebuilt in the transaction
that changes what a profile shows: session events note the institutions behind every flushed
change of the classes in `_watched` and rebuild their rows just before commit (a rollback drops
the notes with the changes). A body that can change with the date alone (a licence expiring, a
white-list interval running out) carries `fresh_until`, the first date it may be wrong; from
that date the lookup computes the profile live until `registry lists refresh` rebuilds it.
"""

import hashlib
import json
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry import clock
from registry.db import UTCDateTime, db, read_retrying

KEY = "public_profiles"  # session.info: what the transaction changed, rebuilt at commit
CHUNK = 1_000


class PublicProfile(db.Model):
    """One institution's public profile, as served (derived data: rebuilt, never edited)."""

    __tablename__ = "public_profiles"

    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    etag: Mapped[str] = mapped_column(sa.String(32))
    built_on: Mapped[date] = mapped_column(sa.Date)
    fresh_until: Mapped[date | None] = mapped_column(sa.Date, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- rendering: the bytes the API serves ------------------------------------------------------
FIELDS = ("uscc", "name", "category", "non_subject_type", "region_code", "region_name",
          "address", "delivery", "status", "list_status", "whitelisted", "listed_since",
          "blacklist", "licences", "teachers", "courses", "custody", "custody_accounts")


def _json_value(value):
    if isinstance(value, datetime):
        return clock.as_cst(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def render(profile: dict) -> bytes:
    """The JSON body exactly as the API's schema and Flask's JSON provider write it."""
    out = {k: profile[k] for k in FIELDS}
    return (json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=_json_value)
            + "\n").encode()


def etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def live(uscc: str) -> tuple[bytes, str]:
    """The body and ETag computed from the tables now (NotFound when no such institution)."""
    from registry.lists import public

    body = render(public.profile(uscc))
    return body, etag(body)


# --- the read path ----------------------------------------------------------------------------
_READ = sa.select(PublicProfile.body, PublicProfile.etag, PublicProfile.built_on,
                  PublicProfile.fresh_until).where(PublicProfile.uscc == sa.bindparam("uscc"))


def lookup(uscc: str) -> tuple[bytes, str]:
    """Body and ETag by USCC: the stored row in one query, else (missing, or stale by date)
    the live computation, so the answer is never older than the tables."""
    key = (uscc or "").strip().upper()
    # One statement is atomic by itself: in autocommit it needs no BEGIN and no ROLLBACK, the
    # two round trips a session transaction would add to it; retried rather than pinged.
    row = read_retrying(lambda conn: conn.execute(_READ, {"uscc": key}).first())
    if row is not None:
        today = clock.today()
        if row.built_on <= today and (row.fresh_until is None or today < row.fresh_until):
            return bytes(row.body), row.etag
    return live(key)


# --- building ---------------------------------------------------------------------------------
def build(ids, session: Session | None = None) -> tuple[list[dict], list[int]]:
    """Rows for these institutions ([row dicts], [ids that no longer exist]), a chunk at a
    time: seven queries per chunk whatever its size."""
    session = session or db.session
    rows, missing = [], []
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        built = _build_chunk(session, chunk)
        rows.extend(built)
        found = {r["institution_id"] for r in built}
        missing.extend(i for i in chunk if i not in found)
    return rows, missing


def _build_chunk(session: Session, ids: list[int]) -> list[dict]:
    from registry.institutions.models import Institution, Licence
    from registry.lists import public
    from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval

    today, now = clock.today(), clock.now()
    inst_rows = session.execute(sa.select(
        Institution.id, Institution.uscc, Institution.name, Institution.category,
        Institution.non_subject_type, Institution.region_code, Institution.address,
        Institution.delivery, Institution.status)
        .where(public.among(Institution.id, ids, session))).all()
    lics = _grouped(session.execute(sa.select(
        Licence.institution_id, Licence.id, Licence.number, Licence.issuer, Licence.delivery,
        Licence.state, Licence.issued_on, Licence.expires_on)
        .where(public.among(Licence.institution_id, ids, session))
        .order_by(Licence.expires_on.desc(), Licence.id.desc())))
    entries = _grouped(session.execute(sa.select(
        BlacklistEntry.institution_id, BlacklistEntry.id, BlacklistEntry.reason_code,
        BlacklistEntry.reason, BlacklistEntry.decided_at,
        BlacklistLift.decided_at.label("lifted_at"))
        .outerjoin(BlacklistLift, BlacklistLift.entry_id == BlacklistEntry.id)
        .where(public.among(BlacklistEntry.institution_id, ids, session))
        .order_by(BlacklistEntry.decided_at.desc(), BlacklistEntry.id.desc())))
    intervals = _grouped(session.execute(sa.select(
        WhitelistInterval.institution_id, WhitelistInterval.listed_from,
        WhitelistInterval.listed_until, WhitelistInterval.licensed_until)
        .where(public.among(WhitelistInterval.institution_id, ids, session))
        .order_by(WhitelistInterval.listed_from.desc())))
    parts = [part(ids, session) for part in public.PROFILE_PARTS]
    out = []
    for inst in inst_rows:
        own_lics = lics.get(inst.id, [])
        own_entries = entries.get(inst.id, [])
        own_intervals = intervals.get(inst.id, [])
        since = public._listed_since(own_intervals, today)
        blacklisted = any(e.lifted_at is None for e in own_entries)
        status = "blacklisted" if blacklisted else (
            "whitelisted" if since is not None else "not_listed")
        entry = next((e for e in own_entries if e.decided_at <= now
                      and (e.lifted_at is None or e.lifted_at > now)), None)
        profile = public.summary(inst) | {
            "status": inst.status,
            "licences": [public.licence(lic, today) for lic in own_lics],
            "list_status": status,
            "whitelisted": status == "whitelisted",
            "listed_since": since,
            "blacklist": None if not blacklisted or entry is None else {
                "reason_code": entry.reason_code, "reason": entry.reason,
                "decided_at": entry.decided_at},
            "teachers": [], "courses": [], "custody": None, "custody_accounts": [],
        }
        for part in parts:
            profile.update(part.get(inst.id, {}))
        body = render(profile)
        out.append({"institution_id": inst.id, "uscc": inst.uscc, "body": body,
                    "etag": etag(body), "built_on": today,
                    "fresh_until": _fresh_until(today, now, own_lics, own_intervals,
                                                own_entries),
                    "updated_at": now})
    return out


def _grouped(result) -> dict[int, list]:
    out: dict[int, list] = {}
    for row in result:
        out.setdefault(row[0], []).append(row)
    return out


def _fresh_until(today: date, now: datetime, lics, intervals, entries) -> date | None:
    """The first date on which the body may change with the date alone: the day after a
    licence that still counts expires (its status turns 'expired'), the day after an open
    white-list interval's licences run out (it leaves the list then), or the day a decision
    dated in the future takes effect. A licence whose term starts later shows the same until
    `whitelist.refresh` lists it, which is a write and rebuilds the row."""
    day = timedelta(days=1)
    dates = [lic.expires_on + day for lic in lics
             if lic.state != "revoked" and lic.expires_on >= today]
    dates += [r.licensed_until + day for r in intervals
              if r.listed_until is None and r.licensed_until >= today]
    dates += [clock.as_cst(at).date() for e in entries for at in (e.decided_at, e.lifted_at)
              if at is not None and at > now]
    return min(dates, default=None)


def store(session: Session, rows: list[dict], missing: list[int] = ()) -> None:
    """Upsert the rows (one statement per batch) and drop those of vanished institutions."""
    table = PublicProfile.__table__
    if missing:
        session.execute(table.delete().where(table.c.institution_id.in_(missing)))
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.institution_id],
        set_={c: stmt.excluded[c] for c in ("uscc", "body", "etag", "built_on", "fresh_until",
                                            "updated_at")})
    session.execute(stmt, rows)


def rebuild(ids, session: Session | None = None) -> int:
    """Rebuild these institutions' rows now (locking the institutions on PostgreSQL, so a
    concurrent change to one of them is read once its transaction commits)."""
    from registry.institutions.models import Institution
    from registry.lists import public

    session = session or db.session
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        if session.get_bind().dialect.name == "postgresql":
            # NO KEY UPDATE: it does not wait for rows that merely reference the institution
            session.execute(sa.select(Institution.id)
                            .where(public.among(Institution.id, chunk, session))
                            .order_by(Institution.id).with_for_update(key_share=True))
        store(session, *build(chunk, session))
    return len(ids)


def rebuild_all(session: Session | None = None) -> int:
    """Every institution's row (after a bulk load), in chunks."""
    from registry.institutions.models import Institution

    session = session or db.session
    ids = session.scalars(sa.select(Institution.id).order_by(Institution.id)).all()
    for start in range(0, len(ids), CHUNK):
        store(session, *build(ids[start:start + CHUNK], session))
    return len(ids)


def refresh(session: Session | None = None) -> int:
    """Rebuild the rows the date made stale, and any missing (idempotent; cron, daily)."""
    from registry.institutions.models import Institution

    session = session or db.session
    today = clock.today()
    stale = sa.select(PublicProfile.institution_id).where(
        sa.or_(PublicProfile.fresh_until <= today, PublicProfile.built_on > today))
    missing = sa.select(Institution.id).where(~sa.exists().where(
        PublicProfile.institution_id == Institution.id))
    ids = set(session.scalars(stale)) | set(session.scalars(missing))
    return rebuild(ids, session)


# --- keeping rows current: session events -----------------------------------------------------
_WATCHED: dict | None = None


def _watched() -> dict:
    """Class -> (attribute naming what it belongs to, what that is, the attributes the profile
    shows): a changed row of these classes changes its institution's profile. An update that
    touches none of the shown attributes (a custody balance, a course's stale flag) does not."""
    global _WATCHED
    if _WATCHED is None:
        from registry.courses.models import Course
        from registry.escrow.models import Bank, EscrowAccount
        from registry.institutions.models import Institution, Licence
        from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval
        from registry.staff.models import Staff

        _WATCHED = {
            Institution: ("id", "inst", ("uscc", "name", "category", "non_subject_type",
                                         "region_code", "address", "delivery", "status")),
            Licence: ("institution_id", "inst", ("institution_id", "number", "issuer",
                                                 "delivery", "state", "issued_on",
                                                 "expires_on")),
            BlacklistEntry: ("institution_id", "inst", ("institution_id", "reason_code",
                                                        "reason", "decided_at")),
            BlacklistLift: ("entry_id", "entry", ("entry_id", "decided_at")),
            WhitelistInterval: ("institution_id", "inst", ("institution_id", "listed_from",
                                                           "listed_until", "licensed_until")),
            Staff: ("institution_id", "inst", ("institution_id", "name", "role",
                                               "teacher_cert_no", "subjects")),
            Course: ("institution_id", "inst", ("institution_id", "title", "subject",
                                                "audience", "delivery", "lesson_minutes",
                                                "price_per_lesson", "class_size")),
            EscrowAccount: ("institution_id", "inst", ("institution_id", "bank_code",
                                                       "account_number")),
            Bank: ("code", "bank", ("code", "name")),
        }
    return _WATCHED


def _note(session: Session, objects, load: bool, dirty: bool = False) -> None:
    watched = _watched()
    for obj in objects:
        kind = watched.get(type(obj))
        if kind is None:
            continue
        attr, what, shown = kind
        state = sa.inspect(obj)
        if dirty and not any(
                state.attrs[a].history.has_changes() for a in shown):
            continue
        if attr in state.unloaded:
            if not load or state.key is None:
                continue
            values = [getattr(obj, attr)]  # before the flush: its row is still there
        else:
            history = state.attrs[attr].history
            values = [*history.added, *history.unchanged, *history.deleted]
        session.info.setdefault(KEY, set()).update((what, v) for v in values if v is not None)


@sa.event.listens_for(Session, "before_flush")
def _before_flush(session, context, instances) -> None:
    _note(session, session.dirty, load=True, dirty=True)  # old owners too
    _note(session, session.deleted, load=True)


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session, context) -> None:
    _note(session, session.new, load=False)  # new rows have their ids now
    _note(session, session.dirty, load=False, dirty=True)


@sa.event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()
    noted = session.info.pop(KEY, None)
    if noted:
        rebuild(_institutions(session, noted), session)


@sa.event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(KEY, None)


def _institutions(session: Session, noted: set) -> set[int]:
    from registry.escrow.models import EscrowAccount
    from registry.lists.models import BlacklistEntry

    ids = {v for what, v in noted if what == "inst"}
    entries = [v for what, v in noted if what == "entry"]
    banks = [v for what, v in noted if what == "bank"]
    if entries:
        ids.update(i for i in session.scalars(sa.select(BlacklistEntry.institution_id).where(
            BlacklistEntry.id.in_(entries))) if i is not None)
    if banks:
        ids.update(session.scalars(sa.select(EscrowAccount.institution_id).distinct().where(
            EscrowAccount.bank_code.in_(banks))))
    return ids
