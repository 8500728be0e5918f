"""Extensions, created unbound; the app factory binds them."""

import marshmallow as ma
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api

from api.openapi import ErrorResponses
from registry.db import db


class ProblemSchema(ma.Schema):
    """application/problem+json (RFC 9457) with a stable machine `code`."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For invalid input: each field and its messages"})


class RegistryApi(Api):
    ERROR_SCHEMA = ProblemSchema


api = RegistryApi(spec_kwargs={"extra_plugins": [ErrorResponses(ProblemSchema)]})
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def public_read() -> bool:
    """The public reads (white list, black list, profiles) carry no limit: the app factory
    lets them skip the limiter's check. Writes, the public complaint form among them, are
    checked as before."""
    return request.method in ("GET", "HEAD") and request.blueprint == "public"

__all__ = ["api", "db", "limiter"]
