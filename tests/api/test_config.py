"""Configuration from the environment, health, the console script, schema only by migration."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from api import config
from registry.db import db

ROOT = Path(__file__).resolve().parents[2]


def test_keys_are_generated_into_the_instance_once_and_kept_private(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "DATA_KEY", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    first = config.from_env(str(tmp_path))
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert first["LOG_LEVEL"] == "INFO"
    for name in ("secret_key", "data_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    again = config.from_env(str(tmp_path))
    assert (again["SECRET_KEY"], again["DATA_KEY"]) == (first["SECRET_KEY"], first["DATA_KEY"])


def test_environment_overrides_and_postgres_urls_use_psycopg_3(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://reg:pw@db.example/registry")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATA_KEY", "k" * 43 + "=")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    cfg = config.from_env(str(tmp_path))
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://reg:pw@db.example/registry"
    assert (cfg["SECRET_KEY"], cfg["LOG_LEVEL"]) == ("s3cret", "WARNING")
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "data_key").exists()


def test_instance_keys_are_never_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "instance/" in ignored


def test_health_answers_ok_with_the_database(client):
    resp = client.get("/api/v1/health")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", unreachable)
    resp = client.get("/api/v1/health")
    assert resp.status_code == 503
    assert resp.json == {"status": "degraded", "database": "unreachable"}


def test_registry_console_script_lists_every_command(tmp_path):
    env = os.environ | {"REGISTRY_INSTANCE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "--help"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for command in ("db", "tokens", "audit", "seed"):
        assert f"  {command} " in out.stdout


def test_the_app_never_builds_the_schema_with_create_all():
    for folder in ("api", "registry", "seed", "migrations"):
        for path in (ROOT / folder).rglob("*.py"):
            assert "create_all(" not in path.read_text(encoding="utf-8"), path
    assert "create_all(" not in (ROOT / "wsgi.py").read_text()


def test_an_app_with_rate_limiting_switched_off_starts_and_serves(database_url, tmp_path):
    # in a child process: create_app configures process-wide state (the data key) the
    # suite's own app relies on
    code = ("from api.app import create_app\n"
            "app = create_app({'RATELIMIT_ENABLED': False})\n"
            "r = app.test_client().get('/api/v1/public/institutions/91330106MA2H7K3P1N')\n"
            "print(r.status_code, r.mimetype)\n")
    env = dict(os.environ, DATABASE_URL=database_url, REGISTRY_INSTANCE=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["404", "application/problem+json"]
