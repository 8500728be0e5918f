"""The schema comes from the migrations, and the migrations match the models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from registry.db import db


# SQLite has no counterpart of the PostgreSQL-only expression index on names' characters
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                db.metadata)
    assert diff == []


def test_rule_catalogue_is_seeded(app):
    count = db.session.scalar(sa.text("SELECT count(*) FROM rules"))
    assert count >= 28


def test_migrations_form_one_line_of_history():
    from alembic.script import ScriptDirectory

    from registry import migrate

    script = ScriptDirectory.from_config(migrate.config())
    assert len(script.get_heads()) == 1
    assert all(len(rev._all_down_revisions) <= 1 for rev in script.walk_revisions())
