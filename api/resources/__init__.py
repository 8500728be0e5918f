"""One blueprint per resource."""

from api.resources.audit import blp as audit
from api.resources.health import blp as health
from api.resources.institutions import blp as institutions
from api.resources.licences import blp as licences

BLUEPRINTS = [health, institutions, licences, audit]
