"""`registry escrow ...` (banks, pulling statements) and `registry webhooks deliver`."""

import time

import click
from flask.cli import with_appcontext

from registry import access, audit
from registry.db import db
from registry.errors import DomainError

escrow_cli = click.Group("escrow", help="Custody of prepaid fees: banks and statements.")
banks_cli = click.Group("banks", help="Custodian banks (admins).")
escrow_cli.add_command(banks_cli)
webhooks_cli = click.Group("webhooks", help="Webhook delivery.")


def _run(fn):
    try:
        return fn()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None


@banks_cli.command("add")
@click.option("--code", required=True, help="the bank code its tokens carry")
@click.option("--name", required=True)
@click.option("--statement-url", help="where `registry escrow pull` fetches statements")
@click.option("--auth-token", help="bearer token sent to the statement URL (stored encrypted)")
@with_appcontext
def banks_add(code, name, statement_url, auth_token):
    """Register a custodian bank."""
    from registry.escrow import pull

    with audit.acting_as(access.SYSTEM):
        _run(lambda: pull.add_bank(code, name, statement_url, auth_token))
        db.session.commit()
    click.echo(f"bank {code} added")


@banks_cli.command("list")
@with_appcontext
def banks_list():
    """List custodian banks."""
    from registry.escrow import pull

    for bank in pull.banks():
        click.echo(f"{bank.code}\t{bank.name}\t{bank.statement_url or '-'}\t"
                   f"cursor={bank.pull_cursor or '-'}")


@escrow_cli.command("pull")
@click.option("--bank", "code", required=True, help="bank code")
@click.option("--max-pages", type=int, help="stop after this many pages")
@click.option("--timeout", type=float, default=10.0, show_default=True)
@with_appcontext
def escrow_pull(code, max_pages, timeout):
    """Fetch statements from a bank's statement URL, page by page, from where we stopped."""
    import requests

    from registry.escrow import pull

    try:
        totals = _run(lambda: pull.pull(code, max_pages=max_pages, timeout=timeout))
    except requests.RequestException as exc:
        db.session.rollback()
        raise click.ClickException(f"bank {code} unreachable: {type(exc).__name__}") from None
    click.echo(f"bank {code}: {totals['pages']} pages, {totals['accepted']} accepted, "
               f"{totals['duplicates']} duplicates, {totals['alerts']} alerts")


@webhooks_cli.command("deliver")
@click.option("--loop", is_flag=True, help="keep delivering until stopped")
@click.option("--interval", type=float, default=2.0, show_default=True,
              help="seconds between passes with --loop")
@click.option("--lease", type=float, default=60.0, show_default=True,
              help="seconds a claimed delivery is reserved before another worker may retry it")
@click.option("--max-attempts", type=int, default=8, show_default=True)
@click.option("--backoff", type=float, default=30.0, show_default=True,
              help="first retry delay in seconds; doubles each attempt")
@click.option("--timeout", type=float, help="HTTP timeout in seconds (default WEBHOOK_TIMEOUT)")
@with_appcontext
def webhooks_deliver(loop, interval, lease, max_attempts, backoff, timeout):
    """Post pending webhook events (one pass, or --loop)."""
    from flask import current_app

    from registry.escrow import webhooks

    policy = webhooks.Policy(timeout=timeout or current_app.config.get("WEBHOOK_TIMEOUT", 5.0),
                             lease_seconds=lease, max_attempts=max_attempts,
                             backoff_seconds=backoff)
    while True:
        counts = webhooks.deliver_pass(policy)
        if not loop or any(counts.values()):
            click.echo(f"delivered {counts['delivered']}, retry later {counts['pending']}, "
                       f"dead {counts['dead']}")
        if not loop:
            return
        db.session.remove()
        time.sleep(interval)
