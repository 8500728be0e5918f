from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import check_if_match, paginate, with_etag
from api.resources.breaches import FoundBreachSchema
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.courses.models import SUBJECTS
from registry.db import db
from registry.institutions import services as institutions
from registry.rules.models import Breach
from registry.staff import services
from registry.staff.models import ROLES

blp = Blueprint("staff", __name__, description="Staff of institutions (teachers and others)")


class StaffInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=30),
                              load_only=True,
                              metadata={"description": "resident ID number (GB 11643); "
                                                       "returned masked only"})
    role = fields.String(required=True, validate=one_of(ROLES))
    teacher_cert_no = fields.String(allow_none=True, validate=validate.Length(max=40),
                                    metadata={"description": "教师资格证 number, 17 digits"})
    subjects = fields.List(fields.String(validate=one_of(SUBJECTS)))
    in_service_school_teacher = fields.Boolean()
    nationality = fields.String(validate=validate.Regexp(
        r"^[A-Za-z]{2}$", error="Must be an ISO 3166 alpha-2 code."))
    located_abroad = fields.Boolean()
    full_time = fields.Boolean()


class StaffPatchSchema(StaffInSchema):
    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class StaffSchema(Schema):
    id = fields.Integer()
    institution_id = fields.Integer()
    region_code = fields.String()
    name = fields.String()
    id_number = fields.String(metadata={"description": "masked, e.g. 330106********123X"})
    role = fields.String()
    teacher_cert_no = fields.String(allow_none=True)
    qualification = fields.String(allow_none=True)
    subjects = fields.List(fields.String())
    in_service_school_teacher = fields.Boolean()
    nationality = fields.String()
    located_abroad = fields.Boolean()
    full_time = fields.Boolean()
    created_at = Instant()
    updated_at = Instant()


class StaffWithBreachesSchema(StaffSchema):
    breaches = fields.Method("_breaches", metadata={
        "description": "open breaches about this person (TEACHER_IN_SERVICE...)"})

    def _breaches(self, staff):
        import sqlalchemy as sa

        rows = db.session.scalars(sa.select(Breach).where(
            Breach.staff_id == staff.id, Breach.status.in_(("open", "confirmed")),
            Breach.session_id.is_(None)).order_by(Breach.id))
        return FoundBreachSchema(many=True).dump(
            [{"id": b.id, "status": b.status, "rule": b.rule, "severity": b.severity,
              "message": b.message, "course_id": b.course_id, "staff_id": b.staff_id,
              "details": b.details} for b in rows])


class StaffQuerySchema(PageArgs):
    id_number = fields.String(metadata={"description": "every record of this person in your "
                                                       "region, at any institution"})
    name = fields.String()


@blp.route("/institutions/<int:institution_id>/staff")
class InstitutionStaff(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(StaffSchema))
    @require("supervisor")
    def get(self, args, institution_id):
        """The staff of an institution"""
        return paginate(services.for_institution(principal(), institution_id), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(StaffInSchema)
    @blp.response(201, StaffWithBreachesSchema)
    @blp.alt_response(409, description="The person is on this institution's staff already")
    @require("supervisor")
    def post(self, data, institution_id):
        """Add a staff member"""
        inst = institutions.get(principal(), institution_id)
        staff = services.add(principal(), inst, data)
        db.session.commit()
        return with_etag(StaffSchema(), staff, 201)


@blp.route("/staff")
class StaffSearch(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(StaffQuerySchema, location="query")
    @blp.response(200, page_of(StaffSchema))
    @require("supervisor")
    def get(self, args):
        """Find staff in your region (by ID number: the same person at every institution)"""
        return paginate(services.find(principal(), args.get("id_number"), args.get("name")),
                        args)


@blp.route("/staff/<int:staff_id>")
class StaffById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, StaffWithBreachesSchema)
    @require("supervisor")
    def get(self, staff_id):
        """One staff member"""
        return with_etag(StaffSchema(), services.get(principal(), staff_id))

    @blp.doc(security=SECURITY)
    @blp.arguments(StaffPatchSchema)
    @blp.response(200, StaffWithBreachesSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    @require("supervisor")
    def patch(self, changes, staff_id):
        """Change a staff member; their lessons are judged again"""
        staff = services.get(principal(), staff_id)
        check_if_match(StaffSchema(), staff)
        services.update(principal(), staff, changes)
        db.session.commit()
        return with_etag(StaffSchema(), staff)
