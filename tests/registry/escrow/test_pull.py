"""Pulling statements from a bank that does not push: a real bank on 127.0.0.1."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from registry import access, audit, clock
from registry.db import db
from registry.escrow import pull
from registry.escrow.models import Bank, EscrowAccount, EscrowTransaction
from tests import factories
from tests.factories import txn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=clock.CST)


class BankServer:
    """Serves `lines` three per page; the cursor is the index of the next line."""

    def __init__(self, lines, token="bank-secret", page_size=3):
        self.lines, self.calls = lines, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)
                server.calls.append(query.get("cursor", [None])[0])
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                start = int(query.get("cursor", ["0"])[0])
                page = server.lines[start:start + page_size]
                end = start + len(page)
                body = json.dumps({"transactions": page, "next_cursor": str(end),
                                   "has_more": end < len(server.lines)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/statements"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def bank_server():
    made = []

    def make(lines, **kwargs):
        made.append(BankServer(lines, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _line(number, i, **kwargs):
    return {"account_number": number, **txn(f"p{i}", amount="10.00",
                                             at=T0 + timedelta(minutes=i), **kwargs)}


def _add_bank(url):
    with audit.acting_as(access.SYSTEM):
        pull.add_bank("BOC", "中国银行", url, "bank-secret")
        db.session.commit()


def test_pull_fetches_page_by_page_and_a_rerun_resumes_where_it_stopped(app, bank_server):
    a = factories.escrow_account(bank="BOC", number="6216600000000001")
    b = factories.escrow_account(bank="BOC", number="6216600000000002")
    lines = [_line(a.account_number if i % 2 else b.account_number, i) for i in range(7)]
    server = bank_server(lines)
    _add_bank(server.url)

    assert pull.pull("BOC", max_pages=2)["accepted"] == 6
    assert db.session.get(Bank, "BOC").pull_cursor == "6"
    server.lines += [_line(a.account_number, 7)]
    totals = pull.pull("BOC")
    assert totals == {"pages": 1, "accepted": 2, "duplicates": 0, "alerts": 0}
    assert server.calls == [None, "3", "6"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 8
    assert db.session.get(EscrowAccount, a.id).balance == 4000
    assert db.session.get(EscrowAccount, b.id).balance == 4000
    assert pull.pull("BOC")["accepted"] == 0  # nothing new: the last page again, deduplicated


def test_a_bad_page_stops_the_pull_and_keeps_the_cursor(app, bank_server):
    a = factories.escrow_account(bank="BOC", number="6216600000000001")
    lines = [_line(a.account_number, i) for i in range(3)]
    lines += [_line(a.account_number, 3) | {"amount": 10.0}]
    server = bank_server(lines)
    _add_bank(server.url)
    from registry.errors import Invalid

    with pytest.raises(Invalid):
        pull.pull("BOC")
    assert db.session.get(Bank, "BOC").pull_cursor == "3"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EscrowTransaction)) == 3


def test_pull_command_reports_counts(app, bank_server):
    a = factories.escrow_account(bank="BOC", number="6216600000000001")
    server = bank_server([_line(a.account_number, i) for i in range(2)])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escrow", "banks", "add", "--code", "BOC", "--name", "中国银行",
                                 "--statement-url", server.url, "--auth-token", "bank-secret"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["escrow", "pull", "--bank", "BOC"])
    assert result.exit_code == 0, result.output
    assert "2 accepted" in result.output
    assert "bank-secret" not in db.session.get(Bank, "BOC").auth_token
