"""Configuration from the environment; secrets generated into instance/ on first run."""

import logging
import os
from pathlib import Path

from registry import crypto


def _instance_secret(instance: Path, name: str, make) -> str:
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def from_env(instance_path: str) -> dict:
    instance = Path(instance_path)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'registry.sqlite3'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY")
        or _instance_secret(instance, "secret_key", lambda: os.urandom(32).hex()),
        "DATA_KEY": os.environ.get("DATA_KEY")
        or _instance_secret(instance, "data_key", crypto.new_key),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "COMPLAINT_RATE_LIMIT": os.environ.get("COMPLAINT_RATE_LIMIT", "5 per minute;50 per day"),
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "5")),
    }


BASE = {
    "API_TITLE": "Off-campus training registry",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "v1/openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",
    "OPENAPI_REDOC_PATH": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "JSON_SORT_KEYS": False,
    # hide_parameters: a database error logged never carries the values of a row; the pool's
    # ping is registry.db.ping_on_checkout, which the public reads skip
    "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
    "API_SPEC_OPTIONS": {
        "info": {"description": "Register, rules, custody and public lists of off-campus "
                                "training institutions (校外培训机构)."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    },
}


def configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
