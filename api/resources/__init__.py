"""One blueprint per resource."""

from api.resources.audit import blp as audit
from api.resources.blacklist import blp as blacklist
from api.resources.breaches import blp as breaches
from api.resources.calendar import blp as calendar
from api.resources.complaints import blp as complaints
from api.resources.courses import blp as courses
from api.resources.escrow import blp as escrow
from api.resources.health import blp as health
from api.resources.institutions import blp as institutions
from api.resources.licences import blp as licences
from api.resources.public import blp as public
from api.resources.rules import blp as rules
from api.resources.staff import blp as staff
from api.resources.webhooks import blp as webhooks

BLUEPRINTS = [health, institutions, licences, audit, public, blacklist, complaints, escrow,
              webhooks, staff, courses, rules, calendar, breaches]
