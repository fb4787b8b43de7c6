"""Catalog service: members, tokens, offers and sessions; in distributed mode also the public gateway."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.catalog.api import members_blp
from services.catalog.community_api import ratings_blp, topic_requests_blp
from services.catalog.deleted_members import register_deleted_member_check
from services.catalog.gateway import register_proxy
from services.catalog.offers_api import offers_blp
from services.catalog.openapi_merge import register_embedded_document, register_merged_document
from services.catalog.proposals_api import proposals_blp, register_governance
from services.catalog.search_cache import SearchAnswers
from services.catalog.web import register_web_front_end
from shared.config import MissingSettings, Settings
from shared.cors import Cors
from shared.ratelimit import register_address_limits
from shared.service import Runtime
from shared.web import create_service_app


def register_accounts(private_key: str) -> Callable[[Flask], None]:
    """What the token endpoint needs: the key that signs tokens."""

    def setup(app: Flask) -> None:
        app.config.update(JWT_PRIVATE_KEY=private_key)

    return setup


def register_cors(allowed_origins: tuple[str, ...]):
    """Browsers on the ALLOWED_ORIGINS may call the public API, the proxied paths included."""

    def setup(app: Flask) -> None:
        app.wsgi_app = Cors(app.wsgi_app, allowed_origins)

    return setup


def register_search_answers(megabytes: int) -> Callable[[Flask], None]:
    """The search answers this process keeps (SEARCH_CACHE_MB; 0 keeps none)."""

    def setup(app: Flask) -> None:
        app.extensions["search_answers"] = SearchAnswers(max_bytes=megabytes * 1024 * 1024)

    return setup


def address_limits(settings: Settings) -> dict[str, str]:
    """The endpoints counted per client address: what costs a password hash, or could be used to guess."""
    return {
        "members.Tokens": settings.login_rate_limit,
        "members.MyPassword": settings.login_rate_limit,
        "members.Members": settings.registration_rate_limit,
        "members.TokenRefresh": settings.refresh_rate_limit,
        "members.Logout": settings.refresh_rate_limit,
        # A reset costs a mail, and its confirmation a password hash.
        "members.PasswordResets": settings.registration_rate_limit,
        "members.PasswordResetConfirm": settings.login_rate_limit,
        "members.MemberConfirmation": settings.login_rate_limit,
    }


def create_app(runtime: Runtime) -> Flask:
    settings = runtime.settings
    # Catalog signs the tokens and verifies them on its own endpoints, so it cannot start without both keys.
    missing = [
        name
        for name, value in (("JWT_PRIVATE_KEY", settings.jwt_private_key), ("JWT_PUBLIC_KEY", settings.jwt_public_key))
        if not value
    ]
    if missing:
        raise MissingSettings(missing)
    setup = [register_accounts(settings.jwt_private_key), register_address_limits(settings, address_limits(settings)),
             register_deleted_member_check, register_governance,
             register_web_front_end, register_embedded_document, register_search_answers(settings.search_cache_mb)]
    if settings.upstreams:
        setup.append(register_merged_document(settings.upstreams))
        setup.append(register_proxy(settings.upstreams, (settings.upstream_connect_timeout_s,
                                                         settings.upstream_read_timeout_s)))
    setup.append(register_cors(settings.allowed_origins))
    return create_service_app(runtime, title="Academy catalog", extra_setup=setup,
                              blueprints=[members_blp, offers_blp, topic_requests_blp, ratings_blp, proposals_blp])
