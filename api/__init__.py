"""The interfaces: HTTP API, public pages and the command line. No business rule lives here."""

from api.app import create_app

__all__ = ["create_app"]
