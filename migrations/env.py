"""Alembic environment: runs on the connection handed over by registry.migrate."""

from alembic import context

import registry.models  # noqa: F401
from registry.db import db

target_metadata = db.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `registry db upgrade`")

context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
