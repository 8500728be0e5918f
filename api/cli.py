"""The `registry` command line: a Flask CLI group, so `registry --help` lists every command."""

import logging
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from registry import access, audit, migrate
from registry.db import db
from registry.errors import DomainError

# --- database ---------------------------------------------------------------------------------
db_cli = click.Group("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision):
    """Bring the database to the newest schema."""
    _quiet_alembic()
    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {', '.join(migrate.current(db.engine)) or 'base'}")


def _quiet_alembic() -> None:
    """Alembic's per-plugin INFO lines drown the result; keep them for LOG_LEVEL=DEBUG."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("alembic").setLevel(logging.WARNING)


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision):
    """Step the schema back to REVISION."""
    migrate.downgrade(db.engine, revision)
    click.echo(f"database at {', '.join(migrate.current(db.engine)) or 'base'}")


@db_cli.command("current")
@with_appcontext
def db_current():
    """Show the schema revision of the database."""
    click.echo(", ".join(migrate.current(db.engine)) or "base (empty)")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
@click.option("--head", default="head")
@click.option("--rev-id")
@with_appcontext
def db_revision(message, autogenerate, head, rev_id):
    """Write a new migration (developers)."""
    from alembic import command

    with db.engine.begin() as connection:
        command.revision(migrate.config(connection), message=message,
                         autogenerate=autogenerate, head=head, rev_id=rev_id)


# --- tokens -----------------------------------------------------------------------------------
tokens_cli = click.Group("tokens", help="API tokens (only their hash is stored).")


@tokens_cli.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(access.ROLES))
@click.option("--region", help="region code (supervisors)")
@click.option("--bank", help="bank code (banks)")
@with_appcontext
def tokens_create(name, role, region, bank):
    """Make a token; it is printed once, on the last line."""
    with audit.acting_as(access.SYSTEM):
        token, raw = _run(lambda: access.create(name, role, region, bank))
        audit.record("token.create", "api_token", token.id, None,
                     {"name": name, "role": role, "region_code": token.region_code,
                      "bank_code": token.bank_code})
        db.session.commit()
    scope = token.region_code or token.bank_code or "all regions"
    click.echo(f"token {name} ({role}, {scope}) created; keep it secret, it is not shown again:")
    click.echo(raw)


@tokens_cli.command("revoke")
@click.argument("name")
@with_appcontext
def tokens_revoke(name):
    """Revoke a token by name."""
    with audit.acting_as(access.SYSTEM):
        token = _run(lambda: access.revoke(name))
        audit.record("token.revoke", "api_token", token.id, None, {"name": name})
        db.session.commit()
    click.echo(f"token {name} revoked")


@tokens_cli.command("list")
@with_appcontext
def tokens_list():
    """List tokens (never their secrets)."""
    for t in db.session.scalars(sa.select(access.Token).order_by(access.Token.id)):
        state = "revoked" if t.revoked_at else "active"
        scope = t.region_code or t.bank_code or "-"
        click.echo(f"{t.name}\t{t.role}\t{scope}\t{state}\t{t.created_at:%Y-%m-%d %H:%M}")


# --- audit ------------------------------------------------------------------------------------
audit_cli = click.Group("audit", help="The audit log.")


@audit_cli.command("verify")
@click.option("--anchor", metavar="SEQ:HASH",
              help="the head printed by an earlier run: proves no event was cut off the end")
@with_appcontext
def audit_verify(anchor):
    """Check the hash chain; report the first event edited, deleted or reordered."""
    result = audit.verify()
    if anchor:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("give SEQ:HASH as printed by audit verify",
                                     param_hint="anchor")
        result = audit.check_anchor(result, int(seq), digest.lower())
    if result.ok:
        click.echo(f"audit log intact: {result.checked} events verified")
        click.echo(f"head (note it down, then check with --anchor): "
                   f"{result.head_seq}:{result.head_hash}")
        return
    click.echo(f"audit log BROKEN at event {result.first_bad_seq}: {result.problem} "
               f"({result.checked} events verified before it)", err=True)
    sys.exit(1)


# --- demo data --------------------------------------------------------------------------------
seed_cli = click.Group("seed", help="Demo and national-scale data.")


@seed_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="do nothing when institutions exist already")
@with_appcontext
def seed_demo(if_empty):
    """Load the demo data (regions, about 50 institutions, licences in every state)."""
    from seed import demo

    with audit.acting_as(access.SYSTEM):
        count = demo.load(if_empty=if_empty)
        db.session.commit()
    click.echo(f"demo data: {count} institutions loaded" if count else "demo data present")


@seed_cli.command("national")
@click.option("--scale", type=float, default=0.01, show_default=True,
              help="1 = 200,000 institutions, 2M staff, 5M sessions, 10M custody transactions")
@click.option("--seed", "seed_number", type=int, default=1, show_default=True)
@with_appcontext
def seed_national(scale, seed_number):
    """Generate national-scale data in bulk (COPY on PostgreSQL), deterministic for a seed."""
    import time

    from seed import national

    started = time.monotonic()
    with audit.acting_as(access.SYSTEM):
        gen = national.National(scale, seed_number)
        with click.progressbar(length=gen.total_rows(), label="generating",
                               file=sys.stderr) as bar:
            gen.writer.progress = bar.update
            counts = gen.run()
        db.session.commit()
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items())
               + f" in {time.monotonic() - started:.1f} s")


def _run(fn):
    try:
        return fn()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None


from api.cli_escrow import escrow_cli, webhooks_cli  # noqa: E402
from api.cli_lists import lists_cli  # noqa: E402
from api.cli_rules import rules_cli  # noqa: E402

COMMANDS = [db_cli, tokens_cli, audit_cli, seed_cli, lists_cli, escrow_cli, webhooks_cli,
            rules_cli]


def main():
    from api.app import create_app

    cli = FlaskGroup(create_app=create_app, add_default_commands=True,
                     help="The off-campus training registry.")
    cli.main(prog_name="registry")


__all__ = ["COMMANDS", "current_app", "main"]
