"""sen.web: the FastAPI app (Segment-compatible /v1, management /api, marketer UI).

Public API: :func:`create_app`, the user and token services, the auth
dependencies, and the metrics other packages increment.
"""

from sen.web.app import create_app
from sen.web.auth import current_user, require_role
from sen.web.metrics import record_ingested, record_rejected
from sen.web.tokens import create_token, revoke_token
from sen.web.users import authenticate, create_user, disable_user, ensure_admin, set_password

__all__ = [
    "authenticate", "create_app", "create_token", "create_user", "current_user",
    "disable_user", "ensure_admin", "record_ingested", "record_rejected", "require_role",
    "revoke_token", "set_password",
]
