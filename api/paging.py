"""Offset pages with a total, and ETags with optional If-Match."""

import hashlib

import sqlalchemy as sa
from flask import json, request

from registry.db import db
from registry.errors import PreconditionFailed


def paginate(stmt, args: dict) -> dict:
    """Run a select as one page: {"items", "page", "per_page", "total"}."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def etag_of(schema, obj) -> str:
    body = json.dumps(schema.dump(obj), sort_keys=True, ensure_ascii=False)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def check_if_match(schema, obj) -> None:
    """412 when the client sent If-Match and it names another version than the current one."""
    if not request.if_match or request.if_match.star_tag:
        return
    if not request.if_match.contains(etag_of(schema, obj).strip('"')):
        raise PreconditionFailed(
            "The record changed since you read it; fetch it again and retry.", code="stale_etag")


def with_etag(schema, obj, status: int = 200):
    """A response carrying the ETag of the representation it returns."""
    return obj, status, {"ETag": etag_of(schema, obj)}
