"""The ledger: statements in, exact integer-fen balances out.

A statement batch is all or nothing, idempotent on (bank, bank_txn_id), applied in
`occurred_at` order, and serialised per account by locking the account row first.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import attrgetter

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from registry import audit, clock
from registry.access import Principal
from registry.db import db, is_postgres, utcnow
from registry.errors import Conflict, Forbidden, Invalid
from registry.escrow import accounts, alerts, mask_account
from registry.escrow.models import INFLOWS, KINDS, OUTFLOWS, EscrowAccount, EscrowTransaction
from registry.money import format_fen, parse_yuan

MAX_BATCH = 10_000
FIELDS = ("bank_txn_id", "occurred_at", "kind", "amount", "balance_after", "student_ref",
          "covers_lessons", "covers_until")
_CHUNK = 5000


@dataclass(slots=True)
class Txn:
    index: int
    bank_txn_id: str
    occurred_at: datetime
    kind: str
    amount: int
    balance_after: int | None = None
    student_ref: str | None = None
    covers_lessons: int | None = None
    covers_until: date | None = None
    digest: str = ""

    @property
    def outflow(self) -> bool:
        return self.kind in OUTFLOWS

    @property
    def delta(self) -> int:
        return -self.amount if self.kind in OUTFLOWS else self.amount


@dataclass
class Result:
    account: EscrowAccount
    accepted: int = 0
    duplicates: int = 0
    duplicate_ids: list[str] = field(default_factory=list)
    alerts: list = field(default_factory=list)


# --- parsing ----------------------------------------------------------------------------------
def parse(items, *, extra: tuple[str, ...] = (), path: str = "transactions") -> list[Txn]:
    """Plain dicts -> Txns. Every problem is named by its field; nothing is guessed or rounded."""
    if not isinstance(items, list) or not items:
        raise Invalid(path, "at least one transaction is required", code="validation_failed")
    if len(items) > MAX_BATCH:
        raise Invalid(path, f"at most {MAX_BATCH} transactions per batch",
                      code="validation_failed")
    out, errors = [], {}
    allowed = set(FIELDS) | set(extra)
    quick = _quick if not extra else None
    for i, item in enumerate(items):
        txn = quick(i, item) if quick else None
        if txn is not None:
            out.append(txn)
            continue
        problems: dict[str, list[str]] = {}
        txn = _parse_one(i, item, allowed, problems)
        if problems:
            errors[str(i)] = problems
            if len(errors) >= 50:
                break
        else:
            out.append(txn)
    if errors:
        first = next(iter(errors))
        names = ", ".join(f"{path}[{first}].{f}" for f in errors[first])
        raise Invalid(None, f"invalid transaction fields: {names}", code="validation_failed",
                      errors={path: errors})
    return out


def _parse_one(i: int, item, allowed: set, problems: dict) -> Txn | None:
    if not isinstance(item, dict):
        problems["_schema"] = ["must be an object"]
        return None
    for key in item:
        if key not in allowed:
            problems[key] = ["Unknown field."]
    for key in ("bank_txn_id", "occurred_at", "kind", "amount"):
        if item.get(key) is None:
            problems.setdefault(key, ["Missing data for required field."])
    if problems:
        return None

    def fail(key, msg):
        problems[key] = [msg]

    txn_id = item["bank_txn_id"]
    if not isinstance(txn_id, str) or not 1 <= len(txn_id.strip()) <= 64:
        fail("bank_txn_id", "must be a string of 1 to 64 characters")
    occurred = _instant(item["occurred_at"])
    if occurred is None:
        fail("occurred_at", "must be an ISO 8601 date-time, e.g. 2026-03-01T09:30:00+08:00")
    kind = item["kind"]
    if kind not in KINDS:
        fail("kind", f"must be one of: {', '.join(KINDS)}")
    amount = _fen(item["amount"])
    if amount is None:
        fail("amount", 'must be a decimal string in yuan with at most two decimals, e.g. "4999.50"')
    elif amount <= 0:
        fail("amount", "must be greater than zero")
    balance_after = None
    if item.get("balance_after") is not None:
        balance_after = _fen(item["balance_after"])
        if balance_after is None:
            fail("balance_after", 'must be a decimal string in yuan with at most two decimals')
    ref = item.get("student_ref")
    if ref is not None and (not isinstance(ref, str) or len(ref) > 64):
        fail("student_ref", "must be a string of at most 64 characters")
    lessons = item.get("covers_lessons")
    if lessons is not None and (type(lessons) is not int or not 1 <= lessons <= 100_000):
        fail("covers_lessons", "must be a whole number of lessons, at least 1")
    until = item.get("covers_until")
    if until is not None:
        try:
            until = date.fromisoformat(until) if isinstance(until, str) else None
        except ValueError:
            until = None
        if until is None:
            fail("covers_until", "must be a date, YYYY-MM-DD")
    if problems:
        return None
    return Txn(i, txn_id.strip(), occurred, kind, amount, balance_after, ref, lessons, until)


_FIELDS = frozenset(FIELDS)
_KINDS = frozenset(KINDS)


def _quick(i: int, item) -> Txn | None:
    """The common case in one pass: a well-formed item gives its Txn, anything else None, and
    `_parse_one` then judges it and names what is wrong. Accepts only what `_parse_one`
    accepts, with the same result."""
    if type(item) is not dict or not item.keys() <= _FIELDS:
        return None
    g = item.get
    txn_id, at, kind = g("bank_txn_id"), g("occurred_at"), g("kind")
    if (type(txn_id) is not str or not 1 <= len(txn_id) <= 64 or txn_id[0].isspace()
            or txn_id[-1].isspace() or type(at) is not str or "T" not in at
            or type(kind) is not str or kind not in _KINDS):
        return None
    amount = _quick_fen(g("amount"))
    if not amount:
        return None
    balance_after = g("balance_after")
    if balance_after is not None:
        balance_after = _quick_fen(balance_after)
        if balance_after is None:
            return None
    ref, lessons, until = g("student_ref"), g("covers_lessons"), g("covers_until")
    if ref is not None and (type(ref) is not str or len(ref) > 64):
        return None
    if lessons is not None and (type(lessons) is not int or not 1 <= lessons <= 100_000):
        return None
    try:
        occurred = datetime.fromisoformat(at)
        if until is not None:
            until = date.fromisoformat(until) if type(until) is str else 0
    except ValueError:
        return None
    if until == 0:
        return None
    occurred = (occurred.replace(tzinfo=clock.CST) if occurred.tzinfo is None
                else occurred).astimezone(UTC)
    return Txn(i, txn_id, occurred, kind, amount, balance_after, ref, lessons, until)


def _quick_fen(value) -> int | None:
    """Plain ASCII yuan ("4999.50", "12", "0.5") -> fen; anything else None (judged slowly)."""
    if type(value) is not str:
        return None
    whole, dot, frac = value.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 15):
        return None
    if not dot:
        return int(whole) * 100
    if not (frac.isascii() and frac.isdigit() and len(frac) <= 2):
        return None
    return int(whole) * 100 + (int(frac) * 10 if len(frac) == 1 else int(frac))


def _fen(value) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_yuan(value)
    except ValueError:
        return None


def _instant(value) -> datetime | None:
    if not isinstance(value, str) or "T" not in value.upper() and " " not in value:
        return None
    try:
        return clock.as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _digest(account_number: str, t: Txn) -> str:
    """What a replay must match: the movement's content (None and dates as str() gives them)."""
    return _sha256(f"{account_number}|{t.occurred_at.isoformat()}|{t.kind}|{t.amount}|"
                   f"{t.balance_after}|{t.student_ref}|{t.covers_lessons}|{t.covers_until}"
                   .encode()).hexdigest()


_sha256 = hashlib.sha256


# --- ingestion --------------------------------------------------------------------------------
def ingest(actor: Principal, account_number: str, items) -> Result:
    """Apply one statement batch for one account; returns counts and the alerts raised."""
    if actor.role != "bank" or not actor.bank_code:
        raise Forbidden("only a bank pushes statements for its own accounts", code="not_a_bank")
    try:
        txns = parse(items)
    except Invalid:
        accounts.find_for_bank(actor.bank_code, account_number)  # an unknown account comes first
        raise
    # The account's row lock serialises every writer of this account, so nothing can slip in
    # between the duplicate check and the insert. (A replay takes the lock too; the lock leaves
    # the row as it is, so a replay changes nothing.)
    account = _locked(actor.bank_code, account_number)
    number = account.account_number
    for t in txns:
        t.digest = _digest(number, t)
    pg = is_postgres()
    # On PostgreSQL the unique index is the duplicate check: a batch of new movements is
    # COPYed at once, inside a savepoint; only when an id is stored already does it roll back
    # to sort replays from reused ids by their digests.
    fresh, result = _drop_duplicates(account, txns, Result(account), stored=not pg)
    if not fresh:
        return result
    before = {"balance": format_fen(account.balance), "txn_count": account.txn_count}
    limits = alerts.limits_for(account)
    ordered = sorted(fresh, key=_WHEN)
    history = _history(account, ordered[0].occurred_at - limits.window)
    now = utcnow()
    if not pg:
        _insert(account, ordered, now)
    elif not _copy(account, ordered, now, tentative=True):
        fresh, result = _drop_duplicates(account, fresh, result)
        if not fresh:
            return result
        ordered = sorted(fresh, key=_WHEN)
        _copy(account, ordered, now)
    fresh = ordered
    opening = account.balance
    account.balance = opening + sum(t.delta for t in fresh)
    latest = fresh[-1].occurred_at
    if account.balance_as_of is None or latest > account.balance_as_of:
        account.balance_as_of = latest
    account.txn_count = (account.txn_count or 0) + len(fresh)
    db.session.flush()
    result.alerts = alerts.evaluate(account, limits, fresh, history, opening)
    result.accepted = len(fresh)
    # The audit record goes last, after everything else is flushed: it takes the audit chain's
    # advisory lock, which is held until commit, so nothing else should run after it.
    db.session.flush()
    audit.record("escrow.statement", "escrow_account", account.id, before, {
        "account_number": mask_account(account.account_number), "accepted": result.accepted,
        "duplicates": result.duplicates, "balance": format_fen(account.balance),
        "txn_count": account.txn_count, "first_occurred_at": fresh[0].occurred_at,
        "last_occurred_at": fresh[-1].occurred_at, "alerts": [a.id for a in result.alerts]})
    return result


_WHEN = attrgetter("occurred_at")  # a stable sort: equal times stay in statement order


def _drop_duplicates(account: EscrowAccount, txns: list[Txn], result: Result, *,
                     stored: bool = True):
    """Split off replays; a reused id with other content is a conflict that names it.
    `stored=False` looks within the batch only (unless it finds a conflict, which is then
    named with any stored ones)."""
    seen: dict[str, Txn] = {}
    reused: list[Txn] = []
    fresh: list[Txn] = []
    for t in txns:
        prior = seen.get(t.bank_txn_id)
        if prior is None:
            seen[t.bank_txn_id] = t
            fresh.append(t)
        elif prior.digest == t.digest:
            result.duplicates += 1
            result.duplicate_ids.append(t.bank_txn_id)
        else:
            reused.append(t)
    if stored or reused:
        found = _stored_digests(account.bank_code, list(seen))
        keep = []
        for t in fresh:
            digest = found.get(t.bank_txn_id)
            if digest is None:
                keep.append(t)
            elif digest == t.digest:
                result.duplicates += 1
                result.duplicate_ids.append(t.bank_txn_id)
            else:
                reused.append(t)
        fresh = keep
    if reused:
        names = sorted({t.bank_txn_id for t in reused})
        raise Conflict(
            "transaction id reused with different content: " + ", ".join(names[:20]),
            code="bank_txn_id_reused",
            errors={"transactions": {str(t.index): {"bank_txn_id": [
                f"{t.bank_txn_id} was reported before with different content"]}
                for t in reused[:50]}},
            extra={"bank_txn_ids": names})
    return fresh, result


def _stored_digests(bank_code: str, ids: list[str]) -> dict[str, str]:
    """bank_txn_id -> digest of those of `ids` already stored for the bank. On PostgreSQL one
    array parameter (`= ANY`) rather than an IN list of thousands of parameters, which costs
    more to render, send and parse than the lookup itself."""
    query = sa.select(EscrowTransaction.bank_txn_id, EscrowTransaction.digest).where(
        EscrowTransaction.bank_code == bank_code)
    if is_postgres():
        ids_param = sa.bindparam("ids", ids, type_=postgresql.ARRAY(sa.String))
        return dict(db.session.execute(
            query.where(EscrowTransaction.bank_txn_id == sa.any_(ids_param))).all())
    stored: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        stored.update(db.session.execute(
            query.where(EscrowTransaction.bank_txn_id.in_(ids[start:start + _CHUNK]))).all())
    return stored


def _locked(bank_code: str, number: str) -> EscrowAccount:
    """The bank's account, read afresh under its row lock (held to commit). PostgreSQL locks it
    as it reads it (FOR NO KEY UPDATE, the lock an update takes); SQLite has no row locks, so
    a write that leaves the row as it is takes its writer lock."""
    account = accounts.find_for_bank(bank_code, number, lock=True)
    if not is_postgres():
        db.session.execute(sa.update(EscrowAccount).where(EscrowAccount.id == account.id)
                           .values(updated_at=EscrowAccount.updated_at))
        db.session.refresh(account)
    return account


_TXNS = EscrowTransaction.__table__


def _insert(account: EscrowAccount, fresh: list[Txn], now: datetime) -> None:
    """Store the new movements in one Core executemany (not the ORM bulk path, which splits
    the rows into many statements by which optional fields are empty); PostgreSQL COPYs."""
    account_id, bank_code = account.id, account.bank_code
    db.session.execute(sa.insert(_TXNS), [{
        "account_id": account_id, "bank_code": bank_code, "bank_txn_id": t.bank_txn_id,
        "occurred_at": t.occurred_at, "kind": t.kind, "amount": t.amount,
        "delta": -t.amount if t.kind in OUTFLOWS else t.amount,
        "balance_after": t.balance_after, "student_ref": t.student_ref,
        "covers_lessons": t.covers_lessons, "covers_until": t.covers_until, "digest": t.digest,
        "received_at": now} for t in fresh])


_COPY_COLUMNS = ("account_id", "bank_code", "bank_txn_id", "occurred_at", "kind", "amount",
                 "delta", "balance_after", "student_ref", "covers_lessons", "covers_until",
                 "digest", "received_at")
# Binary: a quarter of the client's work of text COPY. The instants are sent as timestamptz:
# its binary form is microseconds since 2000-01-01 UTC, which the `timestamp` columns
# (UTCDateTime: naive UTC) read as that same UTC wall time.
_COPY_TYPES = ("int4", "text", "text", "timestamptz", "text", "int8", "int8", "int8", "text",
               "int4", "date", "text", "timestamptz")
_COPY_SQL = f"COPY {_TXNS.name} ({', '.join(_COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"


def _copy(account: EscrowAccount, fresh: list[Txn], now: datetime, *,
          tentative: bool = False) -> bool:
    """COPY the rows in the session's own transaction. Tentative: inside a savepoint, and an
    id stored before rolls it back and answers False. Otherwise a unique violation (a
    concurrent push of the same id to another account of the bank) surfaces as SQLAlchemy's
    IntegrityError, as an insert's would, so the API still answers 409 (and a value PostgreSQL
    cannot hold, a NUL character, its DataError: 422)."""
    account_id, bank_code = account.id, account.bank_code
    raw = db.session.connection().connection.driver_connection
    try:
        if tentative:
            raw.execute("SAVEPOINT ledger_copy")
        with raw.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
            copy.set_types(_COPY_TYPES)
            write = copy.write_row
            for t in fresh:
                write((account_id, bank_code, t.bank_txn_id, t.occurred_at, t.kind, t.amount,
                       -t.amount if t.kind in OUTFLOWS else t.amount, t.balance_after,
                       t.student_ref, t.covers_lessons, t.covers_until, t.digest, now))
    except psycopg.errors.UniqueViolation as error:
        if not tentative:
            raise sa.exc.IntegrityError(_COPY_SQL, None, error) from error
        raw.execute("ROLLBACK TO SAVEPOINT ledger_copy")
        return False
    except psycopg.Error as error:  # as SQLAlchemy would wrap it: the API's handlers answer
        raise sa.exc.DBAPIError.instance(_COPY_SQL, None, error, psycopg.Error) from error
    return True


def _history(account: EscrowAccount, since: datetime) -> list[tuple]:
    """Stored movements after `since`: (occurred_at, id, delta), in order. On PostgreSQL read
    through the driver: a batch reads about as many rows as it brings (the drain window), and
    SQLAlchemy's per-row result handling cost more than the query."""
    if not is_postgres():
        return db.session.execute(
            sa.select(EscrowTransaction.occurred_at, EscrowTransaction.id,
                      EscrowTransaction.delta)
            .where(EscrowTransaction.account_id == account.id,
                   EscrowTransaction.occurred_at > since)
            .order_by(EscrowTransaction.occurred_at, EscrowTransaction.id)).all()
    raw = db.session.connection().connection.driver_connection
    rows = raw.execute(_HISTORY_SQL, (account.id, _naive_utc(since))).fetchall()
    return [(at.replace(tzinfo=UTC), i, delta) for at, i, delta in rows]


_HISTORY_SQL = (f"SELECT occurred_at, id, delta FROM {_TXNS.name} "
                "WHERE account_id = %s AND occurred_at > %s ORDER BY occurred_at, id")


def _naive_utc(at: datetime) -> datetime:
    """What UTCDateTime stores: naive UTC."""
    return at.astimezone(UTC).replace(tzinfo=None)


__all__ = ["INFLOWS", "MAX_BATCH", "Result", "Txn", "ingest", "parse"]
