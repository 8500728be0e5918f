"""Webhook delivery against a real receiver on 127.0.0.1: signed, retried, never lost."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry import clock
from registry.db import db
from registry.escrow import webhooks
from registry.escrow.models import WebhookDelivery
from tests import factories
from tests.factories import txn


class Receiver:
    """A webhook receiver: records every request; answers with `statuses` in turn (then 200)."""

    def __init__(self, statuses=(), hold: bool = False):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        self.got_one = threading.Event()
        self.release = threading.Event()
        self.hold = hold
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                receiver.got_one.set()
                if receiver.hold:
                    receiver.release.wait(60)
                    return  # drop the connection without an answer
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_delivery_is_signed_over_the_raw_body(client, receiver):
    hook = receiver()
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    r = client.post("/api/v1/webhooks", headers=bank, json={
        "url": hook.url, "events": ["escrow.alert"], "secret": "a-secret-of-our-own-choosing"})
    assert r.json["secret"] == "a-secret-of-our-own-choosing"
    account = factories.escrow_account(number="6222020200112233445", min_balance=100_000)
    alert = client.post("/api/v1/escrow/statements", headers=bank, json={
        "account_number": account.account_number,
        "transactions": [txn("t1", amount="1.00")]}).json["alerts"][0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 1

    assert webhooks.deliver_pass() == {"delivered": 1, "pending": 0, "dead": 0}
    [got] = hook.requests
    expected = hmac.new(b"a-secret-of-our-own-choosing", got["body"], hashlib.sha256).hexdigest()
    assert got["headers"]["X-Registry-Signature"] == f"sha256={expected}"
    assert abs(int(got["headers"]["X-Registry-Timestamp"]) - time.time()) < 3600
    event = json.loads(got["body"])
    assert event["id"] == got["headers"]["X-Registry-Event-Id"]
    assert event["type"] == "escrow.alert"
    assert event["data"]["id"] == alert["id"]
    assert event["data"]["account_number"] == "6222020200112233445"  # the bank's own account
    assert webhooks.deliver_pass()["delivered"] == 0  # delivered once, not again


def test_generated_secret_is_returned_once_and_supervisor_payload_is_masked(
        client, receiver, supervisor):
    hook = receiver()
    r = client.post("/api/v1/webhooks", headers=supervisor,
                    json={"url": hook.url, "events": ["escrow.alert"]})
    secret = r.json["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in client.get("/api/v1/webhooks", headers=supervisor).json["items"][0]
    account = factories.escrow_account(number="6222020200112233445", min_balance=100_000)
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    client.post("/api/v1/escrow/statements", headers=bank, json={
        "account_number": account.account_number, "transactions": [txn("t1", amount="1.00")]})
    webhooks.deliver_pass()
    [got] = hook.requests
    assert hmac.compare_digest(got["headers"]["X-Registry-Signature"],
                               webhooks.sign(secret, got["body"]))
    assert json.loads(got["body"])["data"]["account_number"] == "6222***********3445"


def test_webhook_input_is_validated(client, supervisor):
    r = client.post("/api/v1/webhooks", headers=supervisor,
                    json={"url": "ftp://example.org/x", "events": ["escrow.alert"]})
    assert r.status_code == 422 and "url" in r.json["errors"]
    r = client.post("/api/v1/webhooks", headers=supervisor,
                    json={"url": "http://127.0.0.1:9/x", "events": ["everything"]})
    assert r.status_code == 422 and "events" in r.json["errors"]


def test_receiver_answering_500_gets_the_same_event_again_later(client, receiver):
    clock.freeze(clock.now())
    hook = receiver(statuses=[500])
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    client.post("/api/v1/webhooks", headers=bank, json={"url": hook.url,
                                                        "events": ["escrow.alert"]})
    account = factories.escrow_account(min_balance=100_000)
    client.post("/api/v1/escrow/statements", headers=bank, json={
        "account_number": account.account_number, "transactions": [txn("t1", amount="1.00")]})

    assert webhooks.deliver_pass() == {"delivered": 0, "pending": 1, "dead": 0}
    assert webhooks.deliver_pass() == {"delivered": 0, "pending": 0, "dead": 0}  # backing off
    clock.freeze(clock.now() + timedelta(seconds=31))
    assert webhooks.deliver_pass() == {"delivered": 1, "pending": 0, "dead": 0}
    first, second = hook.requests
    assert first["body"] == second["body"]
    assert first["headers"]["X-Registry-Event-Id"] == second["headers"]["X-Registry-Event-Id"]


def test_after_the_last_attempt_the_event_is_a_dead_letter_visible_and_retryable(
        client, receiver):
    clock.freeze(clock.now())
    hook = receiver(statuses=[503] * 3)
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    client.post("/api/v1/webhooks", headers=bank, json={"url": hook.url,
                                                        "events": ["escrow.alert"]})
    account = factories.escrow_account(min_balance=100_000)
    client.post("/api/v1/escrow/statements", headers=bank, json={
        "account_number": account.account_number, "transactions": [txn("t1", amount="1.00")]})
    policy = webhooks.Policy(max_attempts=3, backoff_seconds=10)
    outcomes = []
    for _ in range(3):
        counts = webhooks.deliver_pass(policy)
        outcomes.append(next(k for k, v in counts.items() if v))
        clock.freeze(clock.now() + timedelta(hours=1))
    assert outcomes == ["pending", "pending", "dead"]
    dead = client.get("/api/v1/webhooks/deliveries?status=dead", headers=bank).json
    assert dead["total"] == 1
    assert dead["items"][0]["attempts"] == 3 and dead["items"][0]["last_status"] == 503
    ccb = factories.auth(factories.token("bank", bank="CCB", name="ccb"))
    assert client.get("/api/v1/webhooks/deliveries?status=dead", headers=ccb).json["total"] == 0
    r = client.post(f"/api/v1/webhooks/deliveries/{dead['items'][0]['id']}/retry", headers=bank)
    assert r.json["status"] == "pending"
    assert webhooks.deliver_pass(policy)["delivered"] == 1


def test_worker_killed_mid_delivery_loses_no_event(app, client, receiver, database_url):
    hook = receiver(hold=True)
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    client.post("/api/v1/webhooks", headers=bank, json={"url": hook.url,
                                                        "events": ["escrow.alert"]})
    account = factories.escrow_account(min_balance=100_000)
    client.post("/api/v1/escrow/statements", headers=bank, json={
        "account_number": account.account_number, "transactions": [txn("t1", amount="1.00")]})
    db.session.remove()

    registry = Path(sys.executable).with_name("registry")
    env = dict(os.environ, DATABASE_URL=database_url, REGISTRY_INSTANCE=app.instance_path)
    worker = subprocess.Popen([str(registry), "webhooks", "deliver", "--lease", "1",
                               "--timeout", "120"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        assert hook.got_one.wait(120), worker.stderr and worker.stderr.read()
    finally:
        worker.kill()
        worker.wait()
    hook.hold = False
    hook.release.set()

    row = db.session.scalar(sa.select(WebhookDelivery))
    assert row.status == "pending" and row.attempts == 1  # claimed, never finished
    while db.session.scalar(sa.select(WebhookDelivery.lease_until)) >= clock.now():
        db.session.remove()
        time.sleep(0.2)
    assert webhooks.deliver_pass() == {"delivered": 1, "pending": 0, "dead": 0}
    first, second = hook.requests
    assert first["headers"]["X-Registry-Event-Id"] == second["headers"]["X-Registry-Event-Id"]
