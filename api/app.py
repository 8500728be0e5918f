"""The application factory, in named steps."""

import logging
import os

from flask import Flask, send_from_directory
from flask.sessions import SecureCookieSessionInterface

from api import config
from api.errors import register_errorhandlers
from api.extensions import api, db, limiter, public_read
from registry import access, audit, crypto
from registry.db import ping_on_checkout

PUBLIC = access.Principal(name="public", role="public")


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get(
        "REGISTRY_INSTANCE", os.path.join(os.getcwd(), "instance")))
    app.config.update(config.BASE)
    app.config.update(config.from_env(app.instance_path))
    app.config.update(overrides or {})
    config.configure_logging(app.config["LOG_LEVEL"])
    crypto.configure(app.config["DATA_KEY"])
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_hooks(app)
    return app


def register_extensions(app: Flask) -> None:
    app.json.ensure_ascii = False  # Chinese stays readable; fields in the schemas' order
    app.json.sort_keys = False
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_on_checkout(engine)
    api.init_app(app)
    limiter.init_app(app)
    _skip_limits_for_public_reads(app)
    app.session_interface = CookieSessions()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, without building a signer for a request that carries no
    session cookie (every API request): its session is empty either way."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _skip_limits_for_public_reads(app: Flask) -> None:
    """The limiter's check resolves limits and exemptions before it asks its request filters,
    which costs more than a stored profile lookup: public reads skip the call itself."""
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit not in hooks:  # limiting disabled: no check to skip
        return
    at = hooks.index(limiter._check_request_limit)
    check = hooks[at]

    def check_limits():
        if not public_read():
            return check()
        return None

    hooks[at] = check_limits


def register_blueprints(app: Flask) -> None:
    from api.resources import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    from api.web import web

    app.register_blueprint(web)
    _serve_swagger_ui(app)


def register_commands(app: Flask) -> None:
    from api.cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)


def register_hooks(app: Flask) -> None:
    @app.before_request
    def anonymous_until_authenticated():
        audit.set_actor(PUBLIC)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _serve_swagger_ui(app: Flask) -> None:
    """Swagger UI from the installed bundle, so the docs work without internet."""
    import swagger_ui_bundle

    @app.route("/api/docs/static/<path:filename>")
    def swagger_static(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
