"""Public web pages, in Chinese, server-rendered from the same app."""

from flask import Blueprint

web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/web")

from api.web import pages  # noqa: E402,F401  (routes register on import)
