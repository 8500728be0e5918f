"""`registry rules ...`: the rule catalogue and the full rescan."""

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from registry import access, audit
from registry.db import db


@click.group("rules", help="The rule catalogue and re-evaluation of every breach.")
def rules_cli():
    pass


@rules_cli.command("rescan")
@click.option("--region", help="only institutions in this region (and the regions under it)")
@click.option("--stale-only", is_flag=True,
              help="only institutions whose courses a rule or calendar change marked")
@click.option("--chunk", type=int, default=200, show_default=True,
              help="institutions evaluated per transaction")
@with_appcontext
def rules_rescan(region, stale_only, chunk):
    """Re-evaluate every course, session and staff member against the rules."""
    from registry.courses.models import Course, CourseSession
    from registry.institutions.models import Institution
    from registry.rules import engine

    count = sa.select(sa.func.count()).select_from(CourseSession).join(
        Course, Course.id == CourseSession.course_id)
    if region:
        count = count.join(Institution, Institution.id == Course.institution_id).where(
            Institution.region_code.startswith(_prefix(region)))
    if stale_only:
        count = count.where(Course.institution_id.in_(
            sa.select(Course.institution_id).where(Course.stale.is_(True))))
    total = db.session.scalar(count)
    with audit.acting_as(access.SYSTEM), click.progressbar(
            length=total, label="rescanning sessions", file=sys.stderr) as bar:
        stats = engine.rescan(region=region, progress=bar.update, stale_only=stale_only,
                              chunk=chunk)
    s = stats.as_dict()
    click.echo(f"{s['institutions']} institutions, {s['courses']} courses, {s['sessions']} "
               f"sessions in {s['seconds']} s ({s['sessions_per_second']} sessions/s); "
               f"breaches: {s['findings']} found, {s['opened']} opened, {s['reopened']} "
               f"reopened, {s['resolved']} resolved")


@rules_cli.command("list")
@with_appcontext
def rules_list():
    """The catalogue: code, group, severity, enabled, parameters."""
    from registry.rules.models import Rule

    for r in db.session.scalars(sa.select(Rule).order_by(Rule.group, Rule.code)):
        click.echo(f"{r.code}\t{r.group}\t{r.severity}\t{'on' if r.enabled else 'off'}\t"
                   f"{r.params}")


def _prefix(region):
    from registry import regions

    return regions.prefix(region)
