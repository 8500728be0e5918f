"""The demo data: four cities, about 50 institutions, licences in every state, all audited."""

from collections import Counter

import sqlalchemy as sa

from registry import audit, identifiers
from registry.db import db
from registry.institutions.models import Institution, Licence
from seed import demo


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_demo_loads_about_50_institutions_in_four_cities(app):
    result = cli(app, "seed", "demo")
    assert result.exit_code == 0, result.output
    institutions = db.session.scalars(sa.select(Institution)).all()
    assert 45 <= len(institutions) <= 60
    assert f"{len(institutions)} institutions loaded" in result.output
    cities = Counter(i.region_code[:4] for i in institutions)
    assert set(cities) == {"3301", "1101", "3101", "5101"}
    assert Counter(i.category for i in institutions)["subject"] >= 8
    assert {i.non_subject_type for i in institutions} >= {"sports", "arts", "science",
                                                          "comprehensive", "other"}
    assert {"active", "suspended", "closed"} <= {i.status for i in institutions}


def test_demo_usccs_are_valid_and_match_the_legal_form(app):
    demo.load()
    for inst in db.session.scalars(sa.select(Institution)):
        assert identifiers.clean_uscc(inst.uscc) == inst.uscc
        assert inst.uscc[:2] == ("52" if inst.legal_form == "nonprofit" else "91")
        assert inst.uscc[2:8] == inst.region_code
        assert inst.name.strip() == inst.name
        assert ("有限公司" in inst.name) == (inst.legal_form == "for_profit")


def test_demo_has_licences_in_every_state_and_obeys_the_policy(app):
    from registry.institutions.licences import new_approval_refusal

    demo.load()
    lics = db.session.scalars(sa.select(Licence)).all()
    statuses = Counter(lic.status for lic in lics)
    assert {"active", "suspended", "revoked", "expired"} <= set(statuses)
    assert statuses["active"] > len(lics) / 2
    assert len({lic.number for lic in lics}) == len(lics)
    for lic in lics:
        if lic.basis == "new":
            assert new_approval_refusal(lic.institution) is None
    actions = {e.action for lic in lics for e in lic.events}
    assert actions == {"issue", "renew", "suspend", "reinstate", "revoke"}


def test_demo_is_audited_and_the_chain_verifies(app):
    count = demo.load()
    db.session.commit()
    registered = db.session.scalar(sa.select(sa.func.count()).select_from(audit.AuditEvent)
                                   .where(audit.AuditEvent.action == "institution.register"))
    assert registered == count
    assert audit.verify().ok


def test_demo_is_deterministic_and_loads_once(app):
    first = demo.load()
    names = sorted(db.session.scalars(sa.select(Institution.uscc)))
    assert demo.load(if_empty=True) == 0
    assert demo.load() == 0  # nothing twice, even without --if-empty
    assert first == len(names)
    rerun = [item["data"]["uscc"] for item in demo._plan(__import__("random").Random(demo.SEED))]
    assert sorted(rerun) == names


def test_extra_loaders_get_the_new_institutions(app, monkeypatch):
    seen = []
    monkeypatch.setattr(demo, "EXTRA_LOADERS", ["tests.seed.test_demo:_record"])
    monkeypatch.setattr(__import__("tests.seed.test_demo", fromlist=["x"]), "_seen", seen)
    count = demo.load()
    assert seen == [count]


_seen: list = []


def _record(institutions) -> int:
    _seen.append(len(institutions))
    return 0


def test_demo_activity_shows_every_area(app):
    """The demo has staff, timetables with breaches, custody alerts, a black list entry."""
    import sqlalchemy as sa

    from registry import access, audit
    from registry.db import db
    from seed import demo

    with audit.acting_as(access.SYSTEM):
        demo.load()
        db.session.commit()
    count = lambda table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: E731
    assert count("staff") > 50
    assert count("course_sessions") > 50
    rules = set(db.session.scalars(sa.text("SELECT DISTINCT rule FROM breaches")))
    assert {"OFFLINE_ENDS_AFTER_2030", "TEACHER_UNQUALIFIED"} <= rules
    assert count("escrow_alerts") > 0
    assert count("blacklist_entries") == 1
    assert count("complaints") == 1
