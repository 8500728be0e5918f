"""One error envelope: every error becomes application/problem+json with a stable `code`."""

import logging

from flask import current_app, json
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from registry.db import db
from registry.errors import DomainError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 412: "precondition_failed",
    413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid",
    428: "precondition_required", 429: "rate_limited", 500: "internal_error",
    503: "unavailable",
}


def problem(status: int, detail: str, *, code: str | None = None, title: str | None = None,
            errors: dict | None = None, headers: dict | None = None, **extra):
    body = {
        "type": f"https://registry.example.gov.cn/problems/{code or HTTP_CODES.get(status)}",
        "title": title or _title(status),
        "status": status,
        "detail": detail,
        "code": code or HTTP_CODES.get(status, "error"),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _title(status: int) -> str:
    from werkzeug.http import HTTP_STATUS_CODES

    return HTTP_STATUS_CODES.get(status, "Error")


def flatten_webargs(messages) -> dict:
    """webargs nests messages by location ({"json": {...}}); clients want field -> messages."""
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    out: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out[location] = fields
    return out


def handle_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    if status == 422 and ("messages" in data or "errors" in data):
        errors = flatten_webargs(data.get("errors") or data.get("messages"))
        return problem(422, "The request has invalid fields: " + ", ".join(map(str, errors)),
                       code="validation_failed", errors=errors, headers=data.get("headers"))
    if status == 400 and (data.get("messages") == {"json": ["Invalid JSON body."]}
                          or "Failed to decode JSON" in str(error.description)):
        return problem(400, "The body is not valid JSON.", code="malformed_json")
    detail = data.get("message") or error.description or _title(status)
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        detail = f"Too many requests: limit {error.description}. Try again later."
    return problem(status, detail, code=data.get("code"), headers=headers)


def handle_domain_error(error: DomainError):
    db.session.rollback()
    return problem(error.status, error.detail, code=error.code, title=error.title,
                   errors=error.errors, **error.extra)


def handle_integrity_error(error: IntegrityError):
    db.session.rollback()
    log.warning("integrity error: %s", type(error.orig).__name__)
    return problem(409, "The change conflicts with existing data.", code="conflict")


def handle_db_error(error: DBAPIError):
    db.session.rollback()
    log.exception("database error")
    if isinstance(error, OperationalError):
        return problem(503, "The database is unavailable; try again.", code="unavailable")
    detail = str(error.orig) if current_app.debug else "An internal error occurred."
    return problem(500, detail, code="internal_error")


def handle_unexpected(error: Exception):
    db.session.rollback()
    log.exception("unhandled error")
    return problem(500, "An internal error occurred.", code="internal_error")


def register_errorhandlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_db_error)
    app.register_error_handler(Exception, handle_unexpected)
