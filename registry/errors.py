"""Domain errors. Each carries a stable machine code; the API maps them to problem+json."""


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, errors: dict | None = None,
                 extra: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors
        self.extra = extra or {}


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, illegal transition)."""

    status, code, title = 409, "conflict", "Conflict"


class Invalid(DomainError):
    """Well-formed input that the domain refuses; `errors` names the fields."""

    status, code, title = 422, "invalid", "Unprocessable content"

    def __init__(self, field: str | None, message: str, *, code: str | None = None,
                 errors: dict | None = None):
        errors = errors if errors is not None else ({field: [message]} if field else None)
        super().__init__(message, code=code or "invalid", errors=errors)


class PolicyRefused(DomainError):
    status, code, title = 422, "policy_refused", "Refused by policy"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class PreconditionFailed(DomainError):
    status, code, title = 412, "precondition_failed", "Precondition failed"
