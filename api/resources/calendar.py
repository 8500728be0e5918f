from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import paginate
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry import calendar as service
from registry.db import db
from registry.errors import Invalid

blp = Blueprint("calendar", __name__, description="Holidays, make-up working days, vacations")


class DayInSchema(Schema):
    kind = fields.String(required=True, validate=one_of(service.DAY_KINDS))
    name = fields.String(allow_none=True, validate=validate.Length(max=60))


class DaySchema(Schema):
    date = fields.Date()
    kind = fields.String(metadata={"description": "workday | rest | holiday | makeup"})
    name = fields.String(allow_none=True)
    calendar_loaded = fields.Boolean(metadata={
        "description": "whether that year's holidays are known (built in or loaded)"})


class VacationInSchema(Schema):
    region_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))
    kind = fields.String(required=True, validate=one_of(service.VACATION_KINDS))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class VacationSchema(VacationInSchema):
    id = fields.Integer()
    created_at = Instant()


class VacationQuerySchema(PageArgs):
    region = fields.String(validate=validate.Regexp(r"^\d{6}$"), metadata={
        "description": "vacations in force in this region (its own and inherited)"})


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("date", "must be a date YYYY-MM-DD") from None


@blp.route("/calendar/days/<day>")
class CalendarDay(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DaySchema)
    @require("supervisor")
    def get(self, day):
        """What a day is for the rules"""
        return service.describe(_date(day))

    @blp.doc(security=SECURITY)
    @blp.arguments(DayInSchema)
    @blp.response(200, DaySchema)
    @require("admin")
    def put(self, data, day):
        """Load or correct a day (a year the built-in calendar lacks, or a correction)"""
        principal()
        when = _date(day)
        service.set_day(when, data["kind"], data.get("name"))
        db.session.commit()
        return service.describe(when)


@blp.route("/calendar/vacations")
class Vacations(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(VacationQuerySchema, location="query")
    @blp.response(200, page_of(VacationSchema))
    @require("supervisor")
    def get(self, args):
        """Winter and summer vacations"""
        return paginate(service.list_vacations(principal(), args.get("region")), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(VacationInSchema)
    @blp.response(201, VacationSchema)
    @require("supervisor")
    def post(self, data):
        """Set a vacation for a region and the regions under it"""
        vacation = service.add_vacation(principal(), data)
        db.session.commit()
        return vacation
