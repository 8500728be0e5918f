"""Tokens made on the command line; 401 for no or unknown token, 403 for role or region."""

import pytest
import sqlalchemy as sa

from registry.access import Token
from registry.audit import AuditEvent
from registry.db import db
from tests import factories
from tests.factories import auth, institution_data


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


# --- tokens on the command line ---

def test_tokens_create_prints_the_token_last_and_it_works(app, client):
    result = cli(app, "tokens", "create", "--name", "xihu", "--role", "supervisor",
                 "--region", "330106")
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("rgt_") and " " not in raw
    inst = factories.institution(region_code="330106")
    resp = client.get(f"/api/v1/institutions/{inst.id}", headers=auth(raw))
    assert resp.status_code == 200


def test_only_a_hash_of_the_token_is_stored(app):
    raw = cli(app, "tokens", "create", "--name", "ops", "--role", "admin").output.split()[-1]
    stored = db.session.execute(sa.select(Token.__table__)).one()._mapping
    assert raw not in {str(v) for v in stored.values()}
    assert len(stored["token_hash"]) == 64
    listing = cli(app, "tokens", "list").output
    assert "ops\tadmin" in listing and raw not in listing


def test_tokens_revoke_makes_the_token_401(app, client):
    raw = cli(app, "tokens", "create", "--name", "temp", "--role", "admin").output.split()[-1]
    assert client.get("/api/v1/institutions", headers=auth(raw)).status_code == 200
    result = cli(app, "tokens", "revoke", "temp")
    assert result.exit_code == 0
    resp = client.get("/api/v1/institutions", headers=auth(raw))
    assert resp.status_code == 401
    assert resp.json["code"] == "token_invalid"
    assert "temp\tadmin\t-\trevoked" in cli(app, "tokens", "list").output


def test_token_commands_are_audited_as_the_system(app):
    cli(app, "tokens", "create", "--name", "bank-icbc", "--role", "bank", "--bank", "ICBC")
    cli(app, "tokens", "revoke", "bank-icbc")
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [(e.action, e.actor_name, e.after["name"]) for e in events] == [
        ("token.create", "system", "bank-icbc"), ("token.revoke", "system", "bank-icbc")]
    assert events[0].after["bank_code"] == "ICBC"


@pytest.mark.parametrize("args, message", [
    (["--name", "s", "--role", "supervisor"], "region"),
    (["--name", "s", "--role", "supervisor", "--region", "339999"], "region"),
    (["--name", "b", "--role", "bank"], "bank"),
    (["--name", "x", "--role", "root"], "root"),
])
def test_tokens_create_refuses_incomplete_or_unknown_roles(app, args, message):
    result = cli(app, "tokens", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Token)) == 0


def test_tokens_names_are_unique_and_revoking_an_unknown_name_fails(app):
    assert cli(app, "tokens", "create", "--name", "a", "--role", "admin").exit_code == 0
    again = cli(app, "tokens", "create", "--name", "a", "--role", "admin")
    assert again.exit_code != 0 and "exists" in again.output
    missing = cli(app, "tokens", "revoke", "nobody")
    assert missing.exit_code != 0 and "nobody" in missing.output


def test_cli_help_lists_every_command_group(app):
    output = cli(app, "--help").output
    for group in ("db", "tokens", "audit", "seed"):
        assert group in output


# --- 401: no token or an unknown one ---

@pytest.mark.parametrize("header, code", [(None, "token_missing"), ("Bearer", "token_missing"),
                                          ("Basic YWRtaW46YWRtaW4=", "token_missing"),
                                          ("Bearer rgt_not-a-token", "token_invalid")])
def test_missing_or_unknown_token_is_401_problem(client, app, header, code):
    inst = factories.institution()
    headers = {"Authorization": header} if header else {}
    for method, url, body in (("get", "/api/v1/institutions", None),
                              ("get", f"/api/v1/institutions/{inst.id}", None),
                              ("post", "/api/v1/institutions", institution_data()),
                              ("patch", f"/api/v1/institutions/{inst.id}", {"address": "x"}),
                              ("get", "/api/v1/audit", None)):
        resp = getattr(client, method)(url, json=body, headers=headers)
        assert resp.status_code == 401, (method, url)
        assert resp.mimetype == "application/problem+json"
        assert resp.json["code"] == code
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


# --- 403: a known token outside its role or region ---

def test_bank_token_is_403_on_the_register(client, app):
    inst = factories.institution()
    bank = auth(factories.token("bank", bank="ICBC"))
    for method, url, body in (("get", "/api/v1/institutions", None),
                              ("get", f"/api/v1/institutions/{inst.id}", None),
                              ("post", "/api/v1/institutions", institution_data()),
                              ("patch", f"/api/v1/institutions/{inst.id}", {"address": "x"})):
        resp = getattr(client, method)(url, json=body, headers=bank)
        assert resp.status_code == 403
        assert resp.json["code"] == "role_forbidden"


@pytest.mark.parametrize("region, allowed", [
    ("330106", True),   # the district itself
    ("330100", True),   # Hangzhou covers its districts
    ("330000", True),   # Zhejiang covers the whole province
    ("330102", False),  # a neighbouring district
    ("330200", False),  # Ningbo
    ("110000", False),  # Beijing
])
def test_supervisor_scope_is_its_region_and_every_region_under_it(client, app, region, allowed):
    inst = factories.institution(region_code="330106")
    who = auth(factories.token("supervisor", region=region))
    got = client.get(f"/api/v1/institutions/{inst.id}", headers=who)
    patched = client.patch(f"/api/v1/institutions/{inst.id}", json={"address": "新址"},
                           headers=who)
    created = client.post("/api/v1/institutions", json=institution_data(region_code="330106"),
                          headers=who)
    listed = client.get("/api/v1/institutions", headers=who).json["total"]
    if allowed:
        assert (got.status_code, patched.status_code, created.status_code) == (200, 200, 201)
        assert listed == 2
    else:
        assert (got.status_code, patched.status_code, created.status_code) == (403, 403, 403)
        assert {r.json["code"] for r in (got, patched, created)} == {"out_of_scope"}
        assert listed == 0


def test_supervisor_cannot_move_an_institution_out_of_its_region(client, supervisor):
    created = client.post("/api/v1/institutions", json=institution_data(), headers=supervisor)
    url = f"/api/v1/institutions/{created.json['id']}"
    resp = client.patch(url, json={"region_code": "330203"}, headers=supervisor)
    assert resp.status_code == 403
    assert client.get(url, headers=supervisor).json["region_code"] == "330106"
    inside = client.patch(url, json={"region_code": "330102"}, headers=supervisor)
    assert inside.status_code == 200


def test_admin_may_do_everything_everywhere(client, admin):
    created = client.post("/api/v1/institutions", json=institution_data(region_code="110105"),
                          headers=admin)
    assert created.status_code == 201
    assert client.get("/api/v1/institutions", headers=admin).json["total"] == 1
    assert client.get("/api/v1/audit", headers=admin).status_code == 200


def test_401_and_403_come_before_validation_and_media_type_errors(client, app):
    bank = auth(factories.token("bank", bank="ICBC"))
    for headers, status in (({}, 401), (bank, 403)):
        assert client.post("/api/v1/institutions", json={}, headers=headers).status_code == status
        assert client.post("/api/v1/institutions", data="x", content_type="text/plain",
                           headers=headers).status_code == status
        assert client.get("/api/v1/institutions?page=x", headers=headers).status_code == status
        assert client.post("/api/v1/licences/1/suspend", json={},
                           headers=headers).status_code == status


def test_writes_are_audited_as_the_token_even_after_the_early_auth_check(client, supervisor,
                                                                        admin):
    client.post("/api/v1/institutions", json=institution_data(), headers=supervisor)
    [event] = client.get("/api/v1/audit", headers=admin).json["items"]
    assert (event["actor_name"], event["actor_role"]) == ("hz-supervisor", "supervisor")
