"""Banks, and pulling statements from banks that do not push.

The bank's statement URL answers `GET <url>?cursor=<c>` (no cursor the first time) with
`{"transactions": [{"account_number", "bank_txn_id", ...}], "next_cursor": "...",
"has_more": bool}`. Each page goes through the same ingestion as a pushed statement and is
committed together with the cursor after it, so a re-run resumes where the last one stopped.
"""

import logging
from collections import defaultdict

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from registry import audit, crypto
from registry.access import Principal
from registry.db import db, utcnow
from registry.errors import Conflict, DomainError, Invalid, NotFound
from registry.escrow import ledger
from registry.escrow.models import Bank

log = logging.getLogger(__name__)


def add_bank(code: str, name: str, statement_url: str | None = None,
             auth_token: str | None = None) -> Bank:
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise Invalid("code", "a bank code is 1 to 40 characters")
    if db.session.get(Bank, code) is not None:
        raise Conflict(f"bank {code} exists already", code="duplicate_bank")
    bank = Bank(code=code, name=name, statement_url=statement_url,
                auth_token=crypto.encrypt(auth_token) if auth_token else None)
    db.session.add(bank)
    db.session.flush()
    audit.record("escrow_bank.add", "escrow_bank", code, None,
                 {"code": code, "name": name, "statement_url": statement_url,
                  "auth_token": "***" if auth_token else None})
    return bank


def banks() -> list[Bank]:
    return list(db.session.scalars(sa.select(Bank).order_by(Bank.code)))


def _session(retries: int) -> requests.Session:
    http = requests.Session()
    retry = Retry(total=retries, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=("GET",))
    http.mount("http://", HTTPAdapter(max_retries=retry))
    http.mount("https://", HTTPAdapter(max_retries=retry))
    return http


def pull(code: str, *, max_pages: int | None = None, timeout: float = 10.0,
         retries: int = 3) -> dict:
    """Fetch and ingest pages until the bank has no more; commits page by page."""
    bank = db.session.get(Bank, code)
    if bank is None:
        raise NotFound(f"no bank {code}")
    if not bank.statement_url:
        raise Invalid("statement_url", f"bank {code} has no statement URL configured")
    actor = Principal(name=f"pull:{code}", role="bank", bank_code=code)
    token = crypto.decrypt(bank.auth_token) if bank.auth_token else None
    totals = {"pages": 0, "accepted": 0, "duplicates": 0, "alerts": 0}
    with _session(retries) as http, audit.acting_as(actor):
        while max_pages is None or totals["pages"] < max_pages:
            params = {"cursor": bank.pull_cursor} if bank.pull_cursor else {}
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = http.get(bank.statement_url, params=params, headers=headers,
                                timeout=timeout)
            response.raise_for_status()
            page = response.json()
            items = page.get("transactions") or []
            try:
                _ingest_page(actor, items, totals)
            except DomainError:
                db.session.rollback()
                raise
            totals["pages"] += 1
            bank = db.session.get(Bank, code)
            if page.get("next_cursor"):
                bank.pull_cursor = str(page["next_cursor"])
            bank.pulled_at = utcnow()
            db.session.commit()
            if not page.get("has_more") or not items:
                break
    return totals


def _ingest_page(actor: Principal, items: list, totals: dict) -> None:
    groups: dict[str, list] = defaultdict(list)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("account_number"), str):
            raise Invalid(f"transactions[{i}].account_number", "missing account number")
        body = dict(item)
        groups[body.pop("account_number")].append(body)
    for number, batch in groups.items():
        result = ledger.ingest(actor, number, batch)
        totals["accepted"] += result.accepted
        totals["duplicates"] += result.duplicates
        totals["alerts"] += len(result.alerts)
