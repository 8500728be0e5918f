from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import paginate, with_etag
from api.resources.breaches import FoundBreachSchema
from api.schemas import Instant, Money, PageArgs, Schema, one_of, page_of
from registry.courses import services
from registry.courses.models import (
    BATCH_LIMIT,
    CLASS_SIZES,
    COURSE_AUDIENCES,
    COURSE_DELIVERY,
    SUBJECTS,
)
from registry.db import db
from registry.institutions import services as institutions

blp = Blueprint("courses", __name__, description="Filed courses, timetables and the dry run")


class CourseInSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    subject = fields.String(required=True, validate=one_of(SUBJECTS))
    audience = fields.String(required=True, validate=one_of(COURSE_AUDIENCES))
    delivery = fields.String(required=True, validate=one_of(COURSE_DELIVERY))
    lesson_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=600))
    price_per_lesson = Money(required=True)
    class_size = fields.String(required=True, validate=one_of(CLASS_SIZES), metadata={
        "description": "small (<10), medium (10-35), large (>35)"})
    lessons_total = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))


class CourseSchema(CourseInSchema):
    id = fields.Integer()
    institution_id = fields.Integer()
    region_code = fields.String()
    subject_based = fields.Boolean(metadata={"description": "学科类"})
    created_at = Instant()
    updated_at = Instant()


class CourseFiledSchema(CourseSchema):
    breaches = fields.List(fields.Nested(FoundBreachSchema))


class SessionInSchema(Schema):
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    teacher_id = fields.Integer(allow_none=True)


class SessionSchema(SessionInSchema):
    id = fields.Integer()
    course_id = fields.Integer()


class SessionBatchSchema(Schema):
    sessions = fields.List(fields.Nested(SessionInSchema), required=True,
                           validate=validate.Length(min=1, max=BATCH_LIMIT))


class SessionBatchResultSchema(Schema):
    created = fields.Integer()
    breaches = fields.List(fields.Nested(FoundBreachSchema))


class DryRunSchema(CourseInSchema):
    title = fields.String(load_default="（试算课程）", validate=validate.Length(min=1, max=200))
    lessons_total = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    institution_id = fields.Integer(metadata={
        "description": "judge the institution's rules too (licence, region, non-profit)"})
    region_code = fields.String(validate=validate.Regexp(r"^\d{6}$"), metadata={
        "description": "region whose parameters apply when no institution is given"})
    sessions = fields.List(fields.Nested(SessionInSchema), load_default=list,
                           validate=validate.Length(max=BATCH_LIMIT))


class DryRunResultSchema(Schema):
    checked = fields.Integer(metadata={"description": "sessions judged"})
    breaches = fields.List(fields.Nested(FoundBreachSchema))


@blp.route("/institutions/<int:institution_id>/courses")
class InstitutionCourses(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(CourseSchema))
    @require("supervisor")
    def get(self, args, institution_id):
        """The filed courses of an institution"""
        return paginate(services.for_institution(principal(), institution_id), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(CourseInSchema)
    @blp.response(201, CourseFiledSchema)
    @require("supervisor")
    def post(self, data, institution_id):
        """File a course (备案); the answer names the breaches found"""
        inst = institutions.get(principal(), institution_id)
        course, found = services.file(principal(), inst, data)
        db.session.commit()
        course.breaches = found
        return with_etag(CourseSchema(), course, 201)


@blp.route("/courses/<int:course_id>")
class CourseById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, CourseSchema)
    @require("supervisor")
    def get(self, course_id):
        """One filed course"""
        return with_etag(CourseSchema(), services.get(principal(), course_id))


@blp.route("/courses/<int:course_id>/sessions")
class CourseSessions(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(SessionSchema))
    @require("supervisor")
    def get(self, args, course_id):
        """The timetable of a course, by start"""
        return paginate(services.sessions_of(services.get(principal(), course_id)), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(SessionBatchSchema)
    @blp.response(201, SessionBatchResultSchema)
    @blp.alt_response(422, description="One bad session rejects the whole batch; "
                                       "`session_index` names it")
    @require("supervisor")
    def post(self, data, course_id):
        """Add up to 5,000 sessions to the timetable, all or nothing"""
        course = services.get(principal(), course_id)
        created, found = services.add_sessions(principal(), course, data["sessions"])
        db.session.commit()
        return {"created": created, "breaches": found}


@blp.route("/checks/sessions")
class SessionCheck(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(DryRunSchema)
    @blp.response(200, DryRunResultSchema)
    @require("supervisor")
    def post(self, data):
        """Dry run: the breaches a course and its sessions would have; nothing is stored"""
        found = services.dry_run(principal(), data)
        db.session.rollback()
        return {"checked": len(data["sessions"]), "breaches": found}
