"""Access tokens of a deleted account stop working at once, not when they run out.

Access tokens are checked with the public key alone, so nothing can revoke one; instead every request that
reaches the catalog with a valid token is checked against the catalog's own record of deleted accounts. In the
distributed academy that covers every public path, since the gateway checks before it forwards; embedded, the
dispatcher hands the other services' paths to them directly, and each judges by its own members read model.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from services.catalog.commands import is_deleted
from shared.auth import current_principal
from shared.errors import Unauthorized
from shared.web import TOKEN_PATHS, runtime_of


def refuse_deleted_members() -> None:
    if "Authorization" not in request.headers or request.path.startswith(TOKEN_PATHS):
        return
    try:
        principal = current_principal()
    except Unauthorized:
        return  # a broken token is answered by shared.web's own check, or by the service it is forwarded to
    # A bare connection, not an ORM session: this runs before every authenticated request.
    with runtime_of(current_app).engine.connect() as connection:
        deleted = is_deleted(connection, principal.member_id)
    if deleted:
        raise Unauthorized("this account was deleted")


def register_deleted_member_check(app: Flask) -> None:
    """To be registered before the gateway's proxy, so that forwarded requests are checked too."""
    app.before_request(refuse_deleted_members)
