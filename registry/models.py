"""Every model, imported once so the metadata is complete (migrations, tests)."""

from registry.access import Token  # noqa: F401
from registry.audit import AuditEvent  # noqa: F401
from registry.calendar import CalendarDay, Vacation  # noqa: F401
from registry.complaints.models import Complaint  # noqa: F401
from registry.courses.models import Course, CourseSession  # noqa: F401
from registry.escrow.models import Alert, EscrowAccount, WebhookDelivery  # noqa: F401
from registry.indexes import INDEXES  # noqa: F401  (national-scale indexes, issue 6)
from registry.institutions.models import Institution, Licence, LicenceEvent  # noqa: F401
from registry.lists.models import BlacklistEntry, BlacklistLift, WhitelistInterval  # noqa: F401
from registry.lists.profiles import PublicProfile  # noqa: F401
from registry.rules.models import Breach, BreachEvent, Rule, RuleOverride  # noqa: F401
from registry.staff.models import Staff  # noqa: F401
