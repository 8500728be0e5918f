"""One error envelope: every error becomes application/problem+json with a stable `code`."""

import logging

from flask import current_app, json, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
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
    headers = {"WWW-Authenticate": 'Bearer realm="registry"'} if error.status == 401 else None
    return problem(error.status, error.detail, code=error.code, title=error.title,
                   errors=error.errors, headers=headers, **error.extra)


def handle_integrity_error(error: IntegrityError):
    db.session.rollback()
    log.warning("integrity error: %s", type(error.orig).__name__)
    return problem(409, "The change conflicts with existing data.", code="conflict")


def handle_db_error(error: DBAPIError):
    db.session.rollback()
    if isinstance(error, DataError):  # a value the database cannot hold (NUL byte, range)
        log.warning("data error: %s", type(error.orig).__name__)
        if _id_out_of_range():
            return problem(404, "No record has this id.", code="not_found")
        return problem(422, "A value in the request cannot be stored.", code="invalid_value")
    log.exception("database error")
    if isinstance(error, OperationalError):
        return problem(503, "The database is unavailable; try again.", code="unavailable")
    detail = str(error.orig) if current_app.debug else "An internal error occurred."
    return problem(500, detail, code="internal_error")


def handle_overflow(error: OverflowError):
    """A number too large for the database: no record has such an id; elsewhere it is a 422."""
    db.session.rollback()
    if _id_out_of_range():
        return problem(404, "No record has this id.", code="not_found")
    return problem(422, "A number in the request is out of range.", code="out_of_range")


def _id_out_of_range() -> bool:
    return any(isinstance(v, int) and abs(v) >= 2**31 for v in (request.view_args or {}).values())


def handle_unexpected(error: Exception):
    db.session.rollback()
    if isinstance(error, (ValueError, RecursionError)) and _body_is_not_json():
        return problem(400, "The body is not valid JSON.", code="malformed_json")
    log.exception("unhandled error")
    return problem(500, "An internal error occurred.", code="internal_error")


def _body_is_not_json() -> bool:
    """JSON the parser choked on without a decode error (too deep, too many digits)."""
    if not request or not request.is_json:
        return False
    try:
        json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return True
    return False


BODY_METHODS = ("POST", "PUT", "PATCH")


def refuse_non_json_body():
    """The API reads JSON only: a body of another type is a 415, never silently ignored."""
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return None
    if not (request.content_length or request.headers.get("Transfer-Encoding")):
        return None
    if not request.is_json:
        sent = request.mimetype or "no content type"
        return problem(415, f"Send the body as application/json (got {sent}).",
                       code="unsupported_media_type")
    return None


def register_errorhandlers(app) -> None:
    from api.auth import authenticate_before_parsing

    app.before_request(authenticate_before_parsing)  # 401/403 come before 415 and 422
    app.before_request(refuse_non_json_body)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_db_error)
    app.register_error_handler(OverflowError, handle_overflow)
    app.register_error_handler(Exception, handle_unexpected)
