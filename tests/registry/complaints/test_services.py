import pytest

from registry import access, audit, crypto
from registry.complaints import services
from registry.db import db
from registry.errors import Invalid
from tests import factories


def _file(**data):
    with audit.acting_as(access.Principal(name="public", role="public")):
        complaint = services.file({"category": "other", "description": "情况说明"} | data)
        db.session.commit()
    return complaint


def test_a_registered_uscc_links_the_institution_and_its_region(app):
    inst = factories.institution(region_code="330108")
    complaint = _file(uscc=inst.uscc.lower(), region_code="110101")
    assert complaint.institution_id == inst.id
    assert complaint.region_code == "330108"  # the institution's, not the one given
    assert complaint.reference.startswith("TS") and len(complaint.reference) == 17


def test_an_unregistered_operator_is_kept_by_name_and_region(app):
    complaint = _file(institution_name="小区里的补习班", region_code="330106",
                      contact="parent@example.com")
    assert complaint.institution_id is None and complaint.region_code == "330106"
    assert crypto.decrypt(complaint.contact_enc) == "parent@example.com"
    assert services.masked_contact(complaint) == "p***@example.com"


def test_the_audit_row_carries_neither_contact_nor_description(app):
    from registry.audit import AuditEvent

    _file(institution_name="某班", description="电话13912345678", contact="13912345678")
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "complaint.file")).one()
    assert "13912345678" not in str(event.after)
    assert event.after["has_contact"] is True


def test_a_malformed_uscc_is_refused_naming_the_field(app):
    with pytest.raises(Invalid) as err:
        _file(uscc="123")
    assert "uscc" in err.value.errors
