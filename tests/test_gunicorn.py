"""Gunicorn serves the app with the project's settings, and its access log keeps no query."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_and_never_logs_a_query_string(app, tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = os.environ | {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                        "DATA_KEY": app.config["DATA_KEY"], "SECRET_KEY": "test"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = None
        for _ in range(300):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert health is not None and health.json() == {"status": "ok", "database": "ok"}
        secret = "11010519491231002X"
        answer = requests.get(f"http://127.0.0.1:{port}/api/v1/staff?id_number={secret}",
                              timeout=5)
        assert answer.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "/api/v1/staff" in text
    assert secret not in text
