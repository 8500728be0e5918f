"""`registry lists ...`: keep the white list in step with the date (safe to run from cron)."""

import click
from flask.cli import with_appcontext

from registry import access, audit
from registry.db import db

lists_cli = click.Group("lists", help="The white and black lists.")


@lists_cli.command("refresh")
@click.option("--all", "full", is_flag=True, help="recompute every institution, not only "
                                                  "those the date may have changed")
@click.option("--profiles", "all_profiles", is_flag=True,
              help="rebuild every stored public profile (after a bulk load)")
@with_appcontext
def lists_refresh(full, all_profiles):
    """Apply licences that expired or started with the date; idempotent, run it from cron."""
    from registry.lists import profiles, whitelist

    with audit.acting_as(access.SYSTEM):
        result = whitelist.refresh(full=full)
        db.session.commit()
        rebuilt = profiles.rebuild_all() if all_profiles else profiles.refresh()
        db.session.commit()
    click.echo(f"white list refreshed: {result['checked']} institutions checked, "
               f"{result['listed_before']} listed before, {result['listed_after']} now; "
               f"{rebuilt} public profiles rebuilt")
