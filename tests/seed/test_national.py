"""The national-scale generator, at a tiny scale, on SQLite and PostgreSQL."""

import sqlalchemy as sa
from stdnum.cn import ric

from registry import access, audit, crypto, identifiers, regions
from registry.audit import AuditEvent
from registry.db import db
from registry.institutions import services
from registry.institutions.models import Institution
from registry.lists import whitelist
from registry.staff.models import Staff
from seed import national
from tests import factories

SCALE = 0.0005  # 100 institutions, 1,000 staff, 2,500 sessions, 5,000 custody transactions


def _generate(seed: int = 3) -> dict:
    with audit.acting_as(access.SYSTEM):
        return national.generate(SCALE, seed)


def _usccs() -> list[str]:
    return db.session.scalars(sa.select(Institution.uscc).order_by(Institution.id)).all()


def test_the_same_seed_gives_the_same_institutions_and_another_seed_others(app):
    _generate(3)
    first = _usccs()
    db.session.rollback()
    _generate(3)
    assert _usccs() == first
    db.session.rollback()
    _generate(4)
    assert set(_usccs()).isdisjoint(first)


def test_counts_follow_the_scale(app):
    counts = _generate()
    wanted = national.counts_for(SCALE)
    assert counts["institutions"] == wanted["institutions"] == 100
    assert counts["staff"] == wanted["staff"] == 1000
    assert counts["course_sessions"] == wanted["sessions"] == 2500
    assert counts["escrow_transactions"] == wanted["transactions"] == 5000
    for table, count in counts.items():
        assert db.session.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) == count


def test_codes_are_valid_unique_and_over_real_counties(app):
    _generate()
    rows = db.session.execute(sa.select(Institution.uscc, Institution.region_code)).all()
    assert len({u for u, _ in rows}) == len(rows)
    for uscc, region in rows:
        assert identifiers.clean_uscc(uscc) == uscc
        assert uscc[2:8] == region
        assert regions.get(region).level == "county"


def test_staff_id_numbers_are_stored_as_the_staff_service_stores_them(app):
    _generate()
    for member in db.session.scalars(sa.select(Staff)):
        number = crypto.decrypt(member.id_number_encrypted)
        assert ric.is_valid(number), number
        assert member.id_number_index == crypto.blind_index(number)
        assert member.id_number_masked == identifiers.mask_ric(number)


def test_an_id_names_a_county_code_in_use_in_the_birth_year():
    # 110111 (房山区) dates from 1986: someone born there in 1970 holds an older code
    older = national._birth_county("110111", 1970)
    assert older != "110111" and older[:2] == "11"
    body = f"{older}19700101001"
    assert ric.is_valid(body + ric.calc_check_digit(body + "0"))
    assert national._birth_county("110111", 2010) == "110111"


def test_the_run_is_one_audit_event_and_the_chain_holds(app):
    counts = _generate()
    events = db.session.scalars(sa.select(AuditEvent)).all()
    assert [e.action for e in events] == ["seed.national"]
    assert events[0].after["counts"] == counts
    assert audit.verify().ok


def test_generated_institutions_are_searchable_and_the_services_continue_after_them(app):
    _generate()
    listed = db.session.execute(whitelist.search()).all()
    assert 0 < len(listed) < 100
    name = listed[0].name
    assert listed[0] in db.session.execute(whitelist.search(q=name[-6:])).all()
    # ids continue after the bulk rows (sequences moved on PostgreSQL)
    with audit.acting_as(access.SYSTEM):
        inst = services.register(access.SYSTEM, factories.institution_data())
    assert inst.id > max(i.id for i in listed)
