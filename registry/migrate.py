"""Alembic, driven from code: the schema is built only through migrations."""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def config(connection=None):
    from alembic.config import Config  # imported when used: alembic logs as it loads

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine, revision: str = "heads") -> None:
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(config(connection), revision)


def downgrade(engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(config(connection), revision)


def current(engine) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return list(MigrationContext.configure(connection).get_current_heads())
