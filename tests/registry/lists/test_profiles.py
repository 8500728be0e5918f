"""Stored public profiles: the same bytes the live computation serves, after every kind of write."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from api.resources.public import PublicProfileSchema
from registry import access, audit, clock
from registry.db import db
from registry.institutions import licences, services
from registry.institutions.models import Institution
from registry.lists import blacklist, profiles, public, whitelist
from registry.lists.profiles import PublicProfile
from tests import factories

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=clock.CST)


def stored(inst) -> PublicProfile | None:
    db.session.expire_all()
    return db.session.get(PublicProfile, inst.id)


def assert_all_current() -> int:
    """Every institution's stored body is what the live path computes now; returns how many."""
    db.session.expire_all()
    rows = {r.institution_id: r for r in db.session.scalars(sa.select(PublicProfile))}
    insts = db.session.execute(sa.select(Institution.id, Institution.uscc)).all()
    assert set(rows) == {i.id for i in insts}
    for inst in insts:
        live = profiles.render(public.profile(inst.uscc))
        assert rows[inst.id].body == live, inst.uscc
        assert rows[inst.id].etag == profiles.etag(live)
        assert rows[inst.id].uscc == inst.uscc
    return len(insts)


@pytest.fixture
def full(app):
    """An institution with something in every part of its profile."""
    clock.freeze(T0)
    inst = factories.institution(name="西湖少儿编程", region_code="330106")
    factories.licence(inst)
    factories.staff(inst, name="王老师")
    factories.staff(inst, name="李助教", role="assistant", teacher_cert_no=None)
    factories.course(inst)
    factories.escrow_account(inst)
    return inst


def test_body_is_byte_for_byte_what_the_schema_and_flask_would_serve(app, full):
    with audit.acting_as(access.SYSTEM):
        blacklist.add(access.SYSTEM, {"institution_id": full.id, "reason_code": "other",
                                      "reason": "违规收费"})
        db.session.commit()
    live = public.profile(full.uscc)
    expected = app.json.response(PublicProfileSchema().dump(live)).get_data()
    assert stored(full).body == expected == profiles.render(live)
    body = stored(full).body.decode()
    assert "王老师" in body and "李助教" not in body and "违规收费" in body


def test_every_kind_of_write_keeps_the_stored_body_current(app, full):
    from registry.escrow import pull
    from registry.escrow.models import Bank

    other = factories.institution(region_code="330106")
    assert assert_all_current() == 2
    with audit.acting_as(access.SYSTEM):
        steps = [
            lambda: services.update(access.SYSTEM, full, {"name": "西湖少儿科创"}),
            lambda: factories.licence(other),
            lambda: licences.transition(full.licences[0], "suspend", "整改"),
            lambda: licences.transition(full.licences[0], "reinstate", "整改完成"),
            lambda: licences.renew(full.licences[0], term_months=36),
            lambda: blacklist.add(access.SYSTEM, {"institution_id": other.id,
                                                  "reason_code": "other", "reason": "违规"}),
            lambda: blacklist.lift(access.SYSTEM, db.session.scalars(
                blacklist.query(institution_id=other.id)).one(), "已整改"),
            lambda: factories.staff(other, name="赵老师"),
            lambda: factories.course(other, title="围棋"),
            lambda: factories.escrow_account(other, bank="ABC"),
            lambda: pull.add_bank("ABC", "中国农业银行"),
            lambda: setattr(db.session.get(Bank, "ABC"), "name", "农业银行"),
            lambda: services.update(access.SYSTEM, other, {"status": "suspended"}),
        ]
        for step in steps:
            before = stored(full).body, stored(other).body
            step()
            db.session.commit()
            assert assert_all_current() == 2
            assert (stored(full).body, stored(other).body) != before


def test_staff_edits_and_moves_between_roles_reach_the_profile(app, full):
    from registry.staff import services as staff_services
    from registry.staff.models import Staff

    member = db.session.scalars(sa.select(Staff).where(Staff.name == "李助教")).one()
    db.session.commit()  # everything expired, as in a new request
    with audit.acting_as(access.SYSTEM):
        staff_services.update(access.SYSTEM, member, {"role": "teacher",
                                                      "teacher_cert_no": "20193300000000001"})
        db.session.commit()
    assert "李助教" in stored(full).body.decode()
    assert_all_current()


def test_a_rollback_leaves_the_stored_body_as_it_was(app, full):
    before = stored(full).body
    with audit.acting_as(access.SYSTEM):
        services.update(access.SYSTEM, full, {"name": "改了又撤回"})
        db.session.flush()
        db.session.rollback()
    assert profiles.KEY not in db.session.info
    factories.institution()  # an unrelated commit does not pick up the abandoned change
    assert stored(full).body == before
    assert assert_all_current() == 2


def test_a_licence_expiring_by_date_shows_via_the_fallback_then_via_refresh(app, client):
    clock.freeze(T0)
    listed, suspended = factories.institution(), factories.institution()
    for inst in (listed, suspended):
        factories.licence(inst, issued_on=date(2025, 3, 1), expires_on=date(2026, 3, 10))
    with audit.acting_as(access.SYSTEM):  # off the list: only the date changes its profile
        services.update(access.SYSTEM, suspended, {"status": "suspended"})
        db.session.commit()
    rows = {i.id: stored(i) for i in (listed, suspended)}
    assert {r.fresh_until for r in rows.values()} == {date(2026, 3, 11)}
    for inst in (listed, suspended):
        url = f"/api/v1/public/institutions/{inst.uscc}"
        assert client.get(url).json["licences"][0]["status"] == "active"

    clock.freeze(datetime(2026, 3, 11, 0, 5, tzinfo=clock.CST))
    for inst in (listed, suspended):  # stale by date: computed live, nothing written
        body = client.get(f"/api/v1/public/institutions/{inst.uscc}").json
        assert body["licences"][0]["status"] == "expired"
        assert body["list_status"] == "not_listed" and body["listed_since"] is None
        assert stored(inst).body == rows[inst.id].body

    result = app.test_cli_runner().invoke(args=["lists", "refresh"])
    assert result.exit_code == 0, result.output
    # the listed one was rebuilt by the white list's own write; the other by the date sweep
    assert "1 institutions checked" in result.output
    assert "1 public profiles rebuilt" in result.output
    for inst in (listed, suspended):
        row = stored(inst)
        assert row.fresh_until is None and row.built_on == date(2026, 3, 11)
        assert client.get(f"/api/v1/public/institutions/{inst.uscc}").get_data() == row.body
    assert assert_all_current() == 2


def test_a_licence_starting_later_lists_when_refresh_writes_the_interval(app, client):
    clock.freeze(T0)
    inst = factories.institution()
    factories.licence(inst, issued_on=date(2026, 3, 5), expires_on=date(2029, 3, 4))
    url = f"/api/v1/public/institutions/{inst.uscc}"
    assert client.get(url).json["list_status"] == "not_listed"
    clock.freeze(datetime(2026, 3, 5, 1, tzinfo=clock.CST))
    assert client.get(url).json["list_status"] == "not_listed"  # as the live path says
    with audit.acting_as(access.SYSTEM):
        whitelist.refresh()
        db.session.commit()
    assert client.get(url).json["list_status"] == "whitelisted"
    assert assert_all_current() == 1


def test_the_lookup_is_one_statement_and_answers_304_to_its_etag(app, client, full):
    url = f"/api/v1/public/institutions/{full.uscc.lower()}"
    statements = []

    def count(*args, **kwargs):
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = client.get(url)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert len(statements) == 1 and "public_profiles" in statements[0]
    assert resp.get_data() == stored(full).body
    assert resp.headers["Cache-Control"] == "public, max-age=60"
    tag = resp.headers["ETag"].strip('"')
    assert tag == stored(full).etag
    again = client.get(url, headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_missing_row_falls_back_to_the_live_profile_and_refresh_restores_it(app, client,
                                                                               full):
    db.session.execute(sa.delete(PublicProfile))
    db.session.commit()
    resp = client.get(f"/api/v1/public/institutions/{full.uscc}")
    assert resp.status_code == 200
    assert resp.get_data() == profiles.render(public.profile(full.uscc))
    assert client.get("/api/v1/public/institutions/91330106MA2XXXXXXX").status_code == 404
    assert profiles.refresh() == 1
    db.session.commit()
    assert assert_all_current() == 1


def test_the_demo_data_is_stored_as_the_live_path_computes_it(app):
    from seed import demo

    demo.load()
    db.session.commit()
    assert assert_all_current() >= 45


def test_the_national_generator_leaves_every_profile_built(app):
    from seed import national

    clock.freeze(T0)
    with audit.acting_as(access.SYSTEM):
        counts = national.generate(0.0005, 5)
    assert counts["public_profiles"] == counts["institutions"]
    assert assert_all_current() == counts["institutions"]
    stale = db.session.scalar(sa.select(sa.func.min(PublicProfile.fresh_until)))
    assert stale is None or stale > T0.date()
    clock.freeze(T0 + timedelta(days=400))  # licences expired meanwhile: refresh catches up
    with audit.acting_as(access.SYSTEM):
        whitelist.refresh()
        db.session.commit()
        assert profiles.refresh() > 0
        db.session.commit()
    assert assert_all_current() == counts["institutions"]


def test_writes_the_profile_does_not_show_leave_the_row_alone(app, client, full):
    from registry.escrow.models import EscrowAccount

    clock.freeze(T0 + timedelta(hours=1))
    number = db.session.scalars(sa.select(EscrowAccount.account_number).where(
        EscrowAccount.institution_id == full.id)).one()
    bank = factories.auth(factories.token("bank", bank="ICBC", name="icbc"))
    before = stored(full).updated_at
    resp = client.post("/api/v1/escrow/statements", headers=bank, json={
        "account_number": number, "transactions": [factories.txn("t1", at=T0)]})
    assert resp.status_code == 200, resp.json
    assert db.session.scalar(sa.select(EscrowAccount.txn_count)) == 1  # the balance moved
    assert stored(full).updated_at == before  # and the profile was not rebuilt for it
    assert_all_current()
