"""The white and black lists. Importing the package wires the lists to the changes that move
them (licences, institutions) and to custody, which must know who is blacklisted."""

from registry.institutions import licences as _licences
from registry.institutions import services as _institutions
from registry.lists import blacklist as _blacklist
from registry.lists import profiles as _profiles  # noqa: F401  (its session events)
from registry.lists import whitelist as _whitelist


def _on_licence(lic) -> None:
    _whitelist.recompute(lic.institution, "licence")


def _on_institution(inst) -> None:
    _whitelist.recompute(inst, "institution")


def wire() -> None:
    """Register the listeners (idempotent)."""
    if _on_licence not in _licences.on_change:
        _licences.on_change.append(_on_licence)
    if _on_institution not in _institutions.on_change:
        _institutions.on_change.append(_on_institution)
    try:
        from registry.escrow import alerts
    except ImportError:
        return
    checkers = getattr(alerts, "blacklist_checkers", None)
    if checkers is not None and _blacklist.is_blacklisted not in checkers:
        checkers.append(_blacklist.is_blacklisted)


wire()
