"""Webhooks: subscriptions, the outbox written with each alert, and the delivery worker.

Delivery is at least once: a worker claims due rows with a lease (attempts + 1) and commits
the claim before it posts, so a worker killed mid-delivery leaves a row that is claimed again
once its lease expires. Receivers dedupe by the event id. After `max_attempts` a row is dead
and shown to its subscriber through the API.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

import requests
import sqlalchemy as sa

from registry import audit, crypto, regions
from registry.access import Principal
from registry.db import db, snapshot, utcnow
from registry.errors import Invalid, NotFound
from registry.escrow import alerts as alert_service
from registry.escrow.models import EVENTS, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)


@dataclass
class Policy:
    timeout: float = 5.0
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_cap_seconds: float = 6 * 3600.0
    batch: int = 50


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- subscriptions ----------------------------------------------------------------------------
def subscribe(actor: Principal, url: str, events: list[str], secret: str | None = None):
    """Subscribe a URL; returns (subscription, secret). The secret signs every delivery."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Invalid("url", "must be an http(s) URL")
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise Invalid("events", f"events must be some of: {', '.join(EVENTS)}")
    if actor.role == "supervisor" and not actor.region_code:
        raise Invalid("region", "a supervisor token without a region cannot subscribe")
    secret = secret or "whsec_" + secrets.token_urlsafe(32)
    sub = WebhookSubscription(owner=actor.name, role=actor.role, bank_code=actor.bank_code,
                              region_code=actor.region_code, url=url,
                              events=sorted(set(events)), secret=crypto.encrypt(secret),
                              active=True)
    db.session.add(sub)
    db.session.flush()
    audit.record("webhook.subscribe", "webhook_subscription", sub.id, None,
                 snapshot(sub, exclude=("secret",)))
    return sub, secret


def owned(actor: Principal):
    stmt = sa.select(WebhookSubscription)
    if not actor.is_admin:
        stmt = stmt.where(WebhookSubscription.owner == actor.name)
    return stmt.order_by(WebhookSubscription.id)


def get(actor: Principal, sub_id: int) -> WebhookSubscription:
    sub = db.session.get(WebhookSubscription, sub_id)
    if sub is None or not (actor.is_admin or sub.owner == actor.name):
        raise NotFound(f"no webhook {sub_id}")
    return sub


def unsubscribe(actor: Principal, sub_id: int) -> WebhookSubscription:
    sub = get(actor, sub_id)
    if sub.active:
        sub.active = False
        db.session.flush()
        audit.record("webhook.unsubscribe", "webhook_subscription", sub.id, None,
                     {"active": False})
    return sub


def deliveries(actor: Principal, status: str | None = None):
    stmt = sa.select(WebhookDelivery).join(WebhookSubscription)
    if not actor.is_admin:
        stmt = stmt.where(WebhookSubscription.owner == actor.name)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.id)


def retry(actor: Principal, delivery_id: int) -> WebhookDelivery:
    """Put a dead letter back in the queue (with a fresh count of attempts)."""
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or not (actor.is_admin or db.session.get(
            WebhookSubscription, row.subscription_id).owner == actor.name):
        raise NotFound(f"no delivery {delivery_id}")
    if row.status == "dead":
        row.status, row.attempts, row.next_attempt_at, row.lease_until = (
            "pending", 0, utcnow(), None)
        db.session.flush()
        audit.record("webhook.retry", "webhook_delivery", row.id, None, {"status": "pending"})
    return row


# --- the outbox -------------------------------------------------------------------------------
def _wants(sub: WebhookSubscription, alert) -> bool:
    if sub.role == "admin":
        return True
    if sub.role == "bank":
        return sub.bank_code == alert.bank_code
    return bool(sub.region_code) and regions.covers(sub.region_code, alert.region_code)


def enqueue_alerts(rows: list) -> int:
    """Write one outbox row per alert and interested subscriber (caller's transaction)."""
    subs = [s for s in db.session.scalars(sa.select(WebhookSubscription).where(
        WebhookSubscription.active.is_(True))) if "escrow.alert" in (s.events or [])]
    if not subs:
        return 0
    now, out = utcnow(), []
    for alert in rows:
        for sub in subs:
            if not _wants(sub, alert):
                continue
            event_id = "evt_" + uuid.uuid4().hex
            body = json.dumps({
                "id": event_id, "type": "escrow.alert", "created_at": now.isoformat(),
                "data": alert_service.as_dict(alert, full_number=sub.role == "bank"),
            }, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            out.append({"subscription_id": sub.id, "event_id": event_id,
                        "event": "escrow.alert", "body": body, "status": "pending",
                        "attempts": 0, "next_attempt_at": now, "created_at": now})
    if out:
        db.session.execute(sa.insert(WebhookDelivery), out)
    return len(out)


# --- the worker -------------------------------------------------------------------------------
def claim(policy: Policy) -> list[int]:
    """Lease due rows (committed at once, so a crash after this loses nothing)."""
    now = utcnow()
    stmt = (sa.select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   sa.or_(WebhookDelivery.lease_until.is_(None),
                          WebhookDelivery.lease_until < now))
            .order_by(WebhookDelivery.id).limit(policy.batch)
            .with_for_update(skip_locked=True))
    ids = list(db.session.scalars(stmt))
    if ids:
        db.session.execute(
            sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
            .values(lease_until=now + timedelta(seconds=policy.lease_seconds),
                    attempts=WebhookDelivery.attempts + 1))
    db.session.commit()
    return ids


def deliver_one(delivery_id: int, policy: Policy, http: requests.Session) -> str:
    row = db.session.get(WebhookDelivery, delivery_id)
    sub = db.session.get(WebhookSubscription, row.subscription_id)
    body = row.body.encode()
    status, error = None, None
    try:
        response = http.post(sub.url, data=body, timeout=policy.timeout, headers={
            "Content-Type": "application/json",
            "X-Registry-Event": row.event,
            "X-Registry-Event-Id": row.event_id,
            "X-Registry-Timestamp": str(int(time.time())),
            "X-Registry-Signature": sign(crypto.decrypt(sub.secret), body),
            "User-Agent": "registry-webhooks/1",
        }, allow_redirects=False)
        status = response.status_code
        ok = 200 <= status < 300
        if not ok:
            error = f"HTTP {status}"
    except requests.RequestException as exc:
        ok, error = False, type(exc).__name__
    now = utcnow()
    row.last_status, row.last_error, row.lease_until = status, error, None
    if ok:
        row.status, row.delivered_at = "delivered", now
    elif row.attempts >= policy.max_attempts or not sub.active:
        row.status = "dead"
        log.warning("webhook delivery %s dead after %s attempts: %s", row.id, row.attempts, error)
    else:
        delay = min(policy.backoff_seconds * 2 ** (row.attempts - 1), policy.backoff_cap_seconds)
        row.next_attempt_at = now + timedelta(seconds=delay)
    db.session.commit()
    return row.status


def deliver_pass(policy: Policy | None = None) -> dict:
    """One pass: claim what is due and post it. Returns counts by outcome."""
    policy = policy or Policy()
    counts = {"delivered": 0, "pending": 0, "dead": 0}
    with requests.Session() as http:
        while True:
            ids = claim(policy)
            for delivery_id in ids:
                counts[deliver_one(delivery_id, policy, http)] += 1
            if len(ids) < policy.batch:
                return counts
