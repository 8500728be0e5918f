"""The public look-ups stay a fixed, small number of SQL round trips (counted, not timed)."""

import contextlib
import importlib

import sqlalchemy as sa

from registry.db import db
from tests import factories


@contextlib.contextmanager
def counting_statements():
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    db.session.expunge_all()  # nothing cached from setting up: the request loads it all
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_profile_takes_at_most_five_statements_however_much_it_shows(client):
    inst = factories.institution(name="滨江书法")
    for _ in range(3):
        factories.licence(inst)
    factories.staff(inst)
    factories.staff(inst)
    factories.course(inst)
    factories.escrow_account(inst)
    uscc = inst.uscc
    with counting_statements() as seen:
        body = client.get(f"/api/v1/public/institutions/{uscc}").json
    assert body["list_status"] == "whitelisted" and len(body["licences"]) == 3
    assert len(body["teachers"]) == 2 and len(body["courses"]) == 1 and body["custody"]
    assert len(seen) <= 5, seen


def test_whitelist_page_costs_the_same_statements_whatever_its_size(client):
    for n in range(4):
        factories.licence(factories.institution(name=f"拱墅围棋{n}"))
    with counting_statements() as full:  # a full page: counted in the page's statement
        body = client.get("/api/v1/public/whitelist?q=拱墅围棋&per_page=3").json
    assert body["total"] == 4 and len(body["items"]) == 3
    assert all(item["licence_number"] for item in body["items"])
    full = [s for s in full if "pg_stats" not in s]  # the names' sample: once per 10 minutes
    assert len(full) == 1, full  # licences on the white-list row, the count beside the page
    with counting_statements() as short:  # a short page ends the list: no count
        body = client.get("/api/v1/public/whitelist?q=拱墅围棋&per_page=10").json
    assert body["total"] == 4 and len(body["items"]) == 4
    assert len(short) == 1, short


def test_whitelist_matches_past_the_bound_cost_one_more_statement(client, monkeypatch):
    monkeypatch.setattr(importlib.import_module("api.resources.public"), "TOTAL_AHEAD", 2)
    for n in range(4):
        factories.licence(factories.institution(name=f"拱墅象棋{n}"))
    with counting_statements() as seen:
        body = client.get("/api/v1/public/whitelist?q=拱墅象棋&per_page=1&page=2").json
    seen = [s for s in seen if "pg_stats" not in s]
    assert [i["name"] for i in body["items"]] == ["拱墅象棋1"]
    assert body["total"] == 3 and body["total_exact"] is False
    assert len(seen) == 2, seen  # the cut matches with their count, then the page by name


def test_whitelist_page_past_the_end_still_tells_the_total(client):
    for n in range(2):
        factories.licence(factories.institution(name=f"上城武术{n}"))
    body = client.get("/api/v1/public/whitelist?q=上城武术&per_page=1&page=2").json
    assert body["total"] == 2 and len(body["items"]) == 1
    body = client.get("/api/v1/public/whitelist?q=上城武术&per_page=1&page=3").json
    assert body["total"] == 2 and body["items"] == []
    body = client.get("/api/v1/public/whitelist?q=没有这家机构").json
    assert body["total"] == 0 and body["items"] == []
