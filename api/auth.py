"""Bearer tokens: 401 for a missing or unknown token, 403 for a role or scope it lacks."""

from functools import wraps

from flask import current_app, request

from registry import access, audit
from registry.access import Principal
from registry.errors import DomainError, Forbidden

SECURITY = [{"bearer": []}]


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Unauthorized"


def principal() -> Principal:
    """The caller of this request; raises 401 when there is none."""
    found = request.environ.get("registry.principal")
    if found is None:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("A bearer token is required.", code="token_missing")
        found = access.authenticate(raw.strip())
        if found is None:
            raise Unauthorized("The token is unknown or revoked.", code="token_invalid")
        request.environ["registry.principal"] = found
    audit.set_actor(found)  # every time: a hook may have reset the actor since the first call
    return found


def _check_role(who: Principal, roles: tuple[str, ...]) -> None:
    if who.role != "admin" and who.role not in roles:
        raise Forbidden(f"The {who.role} role may not do this.", code="role_forbidden")


def authenticate_before_parsing() -> None:
    """Before-request hook: a protected view answers 401/403 before it reads its arguments, so
    a caller without the right token never learns more than that (no 422 or 415 first)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, request.method.lower(), None) if view_class else view
    roles = getattr(handler, "_roles", None)
    if roles is not None:
        _check_role(principal(), roles)


def require(*roles: str):
    """Decorate a view: only these roles may call it (admin always may). Documents itself in
    OpenAPI: the bearer scheme and the roles (x-roles); the plugin in api.openapi adds 401/403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            _check_role(principal(), roles)
            return view(*args, **kwargs)

        wrapper._roles = roles
        doc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(doc.get("manual_doc", {}))
        manual.setdefault("security", SECURITY)
        manual.setdefault("x-roles", sorted({"admin", *roles}))
        doc["manual_doc"] = manual
        wrapper._apidoc = doc
        return wrapper

    return decorate

