"""Schemas and fields shared by every resource."""

from datetime import datetime

import marshmallow as ma
from marshmallow import fields, validate

from registry import clock
from registry.money import format_fen, parse_yuan


class Schema(ma.Schema):
    """Unknown fields are refused, so a misspelt field never passes silently."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class Money(fields.Field):
    """Yuan as a decimal string with two decimals; integer fen inside. Floats are refused."""

    default_error_messages = {
        "invalid": 'Must be a decimal string in yuan with at most two decimals, e.g. "4999.50".',
        "negative": "Must not be negative.",
        "positive": "Must be greater than zero.",
    }

    def __init__(self, *, positive: bool = False, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("metadata", {}).update(
            {"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "example": "4999.50"})
        super().__init__(**kwargs)
        self.positive, self.allow_negative = positive, allow_negative

    def _serialize(self, value, attr, obj, **kwargs):
        return format_fen(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            fen = parse_yuan(value)
        except ValueError:
            raise self.make_error("invalid") from None
        if fen < 0 and not self.allow_negative:
            raise self.make_error("negative")
        if fen == 0 and self.positive:
            raise self.make_error("positive")
        return fen


class Instant(fields.DateTime):
    """ISO 8601 with offset; without one it is China Standard Time. Always handed back aware."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return clock.as_utc(parsed)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, datetime):
            value = clock.as_cst(value)
        return super()._serialize(value, attr, obj, **kwargs)


def one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error="Must be one of: {choices}.")


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FeedArgs(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


_pages: dict = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The list envelope {"items", "page", "per_page", "total"} around one item schema."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _pages:
        _pages[name] = type(name, (ma.Schema,), {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
        })
    return _pages[name]


def feed_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The feed envelope {"items", "next_after"}."""
    name = item_schema.__name__.removesuffix("Schema") + "FeedSchema"
    if name not in _pages:
        _pages[name] = type(name, (ma.Schema,), {
            "items": fields.List(fields.Nested(item_schema)),
            "next_after": fields.Integer(allow_none=True),
        })
    return _pages[name]
