from datetime import date, datetime

from registry import clock
from registry.lists import whitelist
from tests import factories


def test_lists_refresh_command_delists_expired_licences_and_is_idempotent(app):
    clock.freeze(datetime(2026, 8, 1, 12, tzinfo=clock.CST))
    inst = factories.institution()
    factories.licence(inst, issued_on=date(2025, 8, 1), expires_on=date(2026, 8, 2))
    clock.freeze(datetime(2026, 8, 3, 2, tzinfo=clock.CST))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lists", "refresh"])
    assert first.exit_code == 0, first.output
    assert "1 institutions checked" in first.output and "0 now" in first.output
    again = runner.invoke(args=["lists", "refresh"])
    assert "0 institutions checked" in again.output
    full = runner.invoke(args=["lists", "refresh", "--all"])
    assert "1 institutions checked" in full.output
    assert not whitelist.is_listed(inst.id)
    assert whitelist.is_listed(inst.id, on=date(2026, 8, 2))
