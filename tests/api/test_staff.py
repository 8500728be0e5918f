"""Staff: the resident ID number validated, encrypted at rest, masked everywhere, and found
again across institutions by its keyed hash."""

import logging

import sqlalchemy as sa

from registry import crypto
from registry.audit import AuditEvent
from registry.staff.models import Staff
from tests import factories


def _add(client, headers, inst, **fields):
    return client.post(f"/api/v1/institutions/{inst.id}/staff", headers=headers,
                       json=factories.staff_data(**fields))


def test_id_number_is_masked_in_responses_and_encrypted_at_rest(client, supervisor, session):
    inst = factories.institution()
    number = factories.ric()
    resp = _add(client, supervisor, inst, id_number=number, name="李老师")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["id_number"] == number[:6] + "********" + number[-4:]
    assert number not in resp.get_data(as_text=True)
    row = session.get(Staff, body["id"])
    assert number not in (row.id_number_encrypted or "")
    assert crypto.decrypt(row.id_number_encrypted) == number
    listed = client.get(f"/api/v1/institutions/{inst.id}/staff", headers=supervisor)
    assert listed.json["total"] == 1 and number not in listed.get_data(as_text=True)
    one = client.get(f"/api/v1/staff/{body['id']}", headers=supervisor)
    assert one.json["id_number"] == body["id_number"] and "ETag" in one.headers


def test_id_number_is_never_written_to_the_audit_log_or_logs(client, supervisor, session,
                                                             caplog):
    inst = factories.institution()
    number = factories.ric()
    with caplog.at_level(logging.DEBUG):
        resp = _add(client, supervisor, inst, id_number=number)
        other = factories.ric()
        client.patch(f"/api/v1/staff/{resp.json['id']}", headers=supervisor,
                     json={"id_number": other})
        client.post(f"/api/v1/institutions/{inst.id}/staff", headers=supervisor,
                    json=factories.staff_data(id_number=number[:-1] + "Z"))
    events = session.scalars(sa.select(AuditEvent)).all()
    dumped = " ".join(str(e.before) + str(e.after) for e in events)
    assert number not in dumped and other not in dumped
    assert number[:6] + "********" + number[-4:] in dumped
    assert number not in caplog.text and other not in caplog.text


def test_an_invalid_resident_id_number_is_refused_naming_the_field(client, supervisor):
    inst = factories.institution()
    good = factories.ric()
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    resp = _add(client, supervisor, inst, id_number=bad)
    assert resp.status_code == 422
    assert "id_number" in resp.json["errors"]


def test_teacher_certificate_number_must_have_17_digits(client, supervisor):
    inst = factories.institution()
    assert _add(client, supervisor, inst, teacher_cert_no="2019330123456789").status_code == 422
    resp = _add(client, supervisor, inst, teacher_cert_no="2019330123456789X")
    assert resp.status_code == 422 and "teacher_cert_no" in resp.json["errors"]
    ok = _add(client, supervisor, inst, teacher_cert_no="20193301234567890")
    assert ok.status_code == 201 and ok.json["qualification"] == "教师资格证"


def test_the_same_person_twice_at_one_institution_is_a_conflict(client, supervisor):
    inst = factories.institution()
    number = factories.ric()
    assert _add(client, supervisor, inst, id_number=number).status_code == 201
    resp = _add(client, supervisor, inst, id_number=number.lower())
    assert resp.status_code == 409 and resp.json["code"] == "duplicate_staff"


def test_supervisor_finds_every_record_of_a_person_in_its_region(client, supervisor, admin):
    number = factories.ric()
    xihu = factories.institution(region_code="330106")
    shangcheng = factories.institution(region_code="330102")
    beijing = factories.institution(region_code="110101")
    for inst in (xihu, shangcheng):
        assert _add(client, supervisor, inst, id_number=number).status_code == 201
    assert _add(client, admin, beijing, id_number=number).status_code == 201
    _add(client, supervisor, xihu)  # someone else

    found = client.get("/api/v1/staff", headers=supervisor, query_string={"id_number": number})
    assert found.status_code == 200
    assert sorted(s["institution_id"] for s in found.json["items"]) == [xihu.id, shangcheng.id]
    everywhere = client.get("/api/v1/staff", headers=admin, query_string={"id_number": number})
    assert everywhere.json["total"] == 3


def test_staff_of_another_region_is_out_of_scope(client, supervisor, admin):
    beijing = factories.institution(region_code="110101")
    resp = _add(client, admin, beijing)
    assert client.get(f"/api/v1/staff/{resp.json['id']}", headers=supervisor).status_code == 403
    assert _add(client, supervisor, beijing).status_code == 403


def test_adding_a_serving_school_teacher_is_flagged_at_once(client, supervisor):
    inst = factories.institution()
    resp = _add(client, supervisor, inst, in_service_school_teacher=True)
    assert resp.status_code == 201
    assert [b["rule"] for b in resp.json["breaches"]] == ["TEACHER_IN_SERVICE"]
    fixed = client.patch(f"/api/v1/staff/{resp.json['id']}", headers=supervisor,
                         json={"in_service_school_teacher": False})
    assert fixed.status_code == 200 and fixed.json["breaches"] == []


def test_patch_honours_if_match(client, supervisor):
    inst = factories.institution()
    resp = _add(client, supervisor, inst)
    url = f"/api/v1/staff/{resp.json['id']}"
    stale = client.patch(url, headers=supervisor | {"If-Match": '"nope"'}, json={"name": "新名"})
    assert stale.status_code == 412
    fresh = client.patch(url, headers=supervisor | {"If-Match": resp.headers["ETag"]},
                         json={"name": "新名"})
    assert fresh.status_code == 200 and fresh.json["name"] == "新名"
