"""The audit log: every write is a hash-chained event; `registry audit verify` finds tampering."""

import json

import pytest
import sqlalchemy as sa

from registry.db import db
from tests import factories
from tests.factories import auth, institution_data


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def make_events(client, headers, n: int = 4) -> list[int]:
    ids = []
    for i in range(n):
        resp = client.post("/api/v1/institutions", json=institution_data(name=f"审计测试{i}"),
                           headers=headers)
        assert resp.status_code == 201
        ids.append(resp.json["id"])
    return ids


def raw_sql(statement: str, **params) -> None:
    """Change the table behind the app's back, as someone with database access could."""
    with db.engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    db.session.expire_all()


def test_writes_are_recorded_with_who_what_before_and_after(client, supervisor, admin):
    [inst_id] = make_events(client, supervisor, 1)
    client.patch(f"/api/v1/institutions/{inst_id}", json={"address": "新地址8号"},
                 headers=supervisor)
    items = client.get("/api/v1/audit", headers=admin).json["items"]
    update, register = items[0], items[1]
    assert (update["action"], update["entity_type"], update["entity_id"]) == (
        "institution.update", "institution", str(inst_id))
    assert (update["actor_name"], update["actor_role"]) == ("hz-supervisor", "supervisor")
    assert update["before"]["address"] != "新地址8号"
    assert update["after"]["address"] == "新地址8号"
    assert register["before"] is None and register["after"]["name"] == "审计测试0"
    assert update["prev_hash"] == register["hash"]
    assert update["at"].endswith("+08:00")


def test_a_patch_that_changes_nothing_records_nothing(client, supervisor, admin):
    [inst_id] = make_events(client, supervisor, 1)
    url = f"/api/v1/institutions/{inst_id}"
    same = client.get(url, headers=supervisor).json["address"]
    client.patch(url, json={"address": same}, headers=supervisor)
    assert client.get("/api/v1/audit", headers=admin).json["total"] == 1


def test_audit_log_is_for_admins_only(client, supervisor, app):
    assert client.get("/api/v1/audit").status_code == 401
    resp = client.get("/api/v1/audit", headers=supervisor)
    assert resp.status_code == 403
    bank = auth(factories.token("bank", bank="ICBC"))
    assert client.get("/api/v1/audit", headers=bank).status_code == 403


def test_audit_log_filters_and_pages_newest_first(client, supervisor, admin):
    ids = make_events(client, supervisor, 3)
    client.patch(f"/api/v1/institutions/{ids[1]}", json={"name": "改名后"}, headers=supervisor)
    everything = client.get("/api/v1/audit?per_page=2", headers=admin).json
    assert everything["total"] == 4
    assert [e["seq"] for e in everything["items"]] == [4, 3]
    one = client.get(f"/api/v1/audit?entity_type=institution&entity_id={ids[1]}",
                     headers=admin).json
    assert [e["action"] for e in one["items"]] == ["institution.update", "institution.register"]
    updates = client.get("/api/v1/audit?action=institution.update", headers=admin).json
    assert updates["total"] == 1
    by_actor = client.get("/api/v1/audit?actor=hz-supervisor", headers=admin).json
    assert by_actor["total"] == 4
    assert client.get("/api/v1/audit?actor=nobody", headers=admin).json["total"] == 0
    bad = client.get("/api/v1/audit?per_page=500", headers=admin)
    assert bad.status_code == 422 and "per_page" in bad.json["errors"]


# --- registry audit verify ---

def test_verify_passes_on_an_intact_log(app, client, supervisor):
    make_events(client, supervisor, 4)
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "4 events verified" in result.output


@pytest.mark.parametrize("column", ["actor_name", "after"])
def test_verify_catches_an_event_edited_in_the_database(app, client, supervisor, column):
    make_events(client, supervisor, 4)
    if column == "after":
        value = json.dumps({"name": "篡改"}, ensure_ascii=False)
        cast = "CAST(:v AS JSONB)" if db.engine.dialect.name == "postgresql" else ":v"
        raw_sql(f"UPDATE audit_events SET after = {cast} WHERE seq = 3", v=value)
    else:
        raw_sql("UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = 3")
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at event 3" in result.output
    assert "altered" in result.output
    assert "2 events verified" in result.output


def test_verify_catches_a_deleted_event(app, client, supervisor):
    make_events(client, supervisor, 4)
    raw_sql("DELETE FROM audit_events WHERE seq = 2")
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at event 2" in result.output
    assert "missing" in result.output


def test_verify_catches_reordered_events(app, client, supervisor):
    make_events(client, supervisor, 4)
    raw_sql("UPDATE audit_events SET seq = -1 WHERE seq = 2")
    raw_sql("UPDATE audit_events SET seq = 2 WHERE seq = 3")
    raw_sql("UPDATE audit_events SET seq = 3 WHERE seq = -1")
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at event 2" in result.output


def test_verify_catches_an_event_rewritten_with_a_fresh_hash_by_the_next_link(app, client,
                                                                             supervisor):
    """Recomputing the edited event's own hash is not enough: the next event points at the old."""
    from registry import audit

    make_events(client, supervisor, 4)
    event = db.session.scalar(sa.select(audit.AuditEvent).where(audit.AuditEvent.seq == 2))
    event.actor_name = "forger"
    event.hash = audit._digest(event)
    db.session.commit()
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at event 3" in result.output


def test_verify_with_an_anchor_catches_events_cut_off_the_end(app, client, supervisor):
    make_events(client, supervisor, 3)
    first = cli(app, "audit", "verify")
    anchor = first.output.strip().splitlines()[-1].split()[-1]
    assert anchor.startswith("3:")
    assert cli(app, "audit", "verify", "--anchor", anchor).exit_code == 0
    make_events(client, supervisor, 1)
    assert cli(app, "audit", "verify", "--anchor", anchor).exit_code == 0  # growth is fine
    raw_sql("DELETE FROM audit_events WHERE seq >= 3")
    assert cli(app, "audit", "verify").exit_code == 0  # the chain alone cannot tell
    cut = cli(app, "audit", "verify", "--anchor", anchor)
    assert cut.exit_code == 1
    assert "deleted from its end" in cut.output
    assert cli(app, "audit", "verify", "--anchor", "nonsense").exit_code == 2
