"""Every model, imported once so the metadata is complete (migrations, tests)."""

from registry.access import Token  # noqa: F401
from registry.audit import AuditEvent  # noqa: F401
from registry.complaints.models import Complaint  # noqa: F401
from registry.escrow.models import Alert, EscrowAccount, WebhookDelivery  # noqa: F401
from registry.institutions.models import Institution, Licence, LicenceEvent  # noqa: F401
from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval  # noqa: F401
from registry.rules.models import Breach, Rule, RuleOverride  # noqa: F401
