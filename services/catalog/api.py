"""Catalog's HTTP API for members: register, sign in and out, profiles (offers are in offers_api.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from flask import current_app
from flask.views import MethodView

from services.catalog import commands, password_reset, registration
from services.catalog.schemas import (
    AccountDeletion,
    MemberOut,
    PasswordChange,
    PasswordResetAccepted,
    PasswordResetConfirmation,
    PasswordResetRequest,
    ProfilePatch,
    RefreshRequest,
    Registration,
    RegistrationAccepted,
    RegistrationConfirmation,
    TokenOut,
    TokenRequest,
)
from shared.auth import current_principal, issue_token, require_roles
from shared.errors import DomainError
from shared.web import Blueprint, runtime_of, transaction

BEARER = [{"bearer": []}]

members_blp = Blueprint("members", __name__, url_prefix="/api/v1", description="Members and their tokens")


T = TypeVar("T")
# The limits per client address (shared.ratelimit) and the lock per account answer 429 with Retry-After.
THROTTLED = {"response": "TOO_MANY_REQUESTS"}


def _settled(outcome: T | DomainError) -> T:
    """A command's result, or its refusal raised only now: after the transaction committed what the refusal
    recorded (a counted failure, a revoked session), which raising inside it would have rolled back."""
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _account_rules() -> dict:
    settings = runtime_of(current_app).settings
    return {"max_failures": settings.login_max_failures, "lifetime": timedelta(days=settings.refresh_token_days)}


def _token_pair(renewal: commands.Renewal) -> dict:
    ttl = timedelta(minutes=runtime_of(current_app).settings.access_token_minutes)
    access_token = issue_token(current_app.config["JWT_PRIVATE_KEY"], renewal.member.id, renewal.member.roles, ttl)
    return {"access_token": access_token, "expires_in": int(ttl.total_seconds()),
            "refresh_token": renewal.refresh_token}


REGISTRATION_ACCEPTED = ("Thank you. A mail to this address tells how to go on: a link to confirm it (valid for a "
                         "day), or, if it has an account already, how to sign in.")


@members_blp.route("/members")
class Members(MethodView):
    @members_blp.arguments(Registration)
    @members_blp.response(202, RegistrationAccepted)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """Register as a member: the answer is the same whether the address has an account or not; the mail to it
        carries the link that confirms it, and only a confirmed member can sign in"""
        with transaction() as db:
            registration.register(db, body["email"], body["password"], body["display_name"],
                                  preferred_language=body["preferred_language"], time_zone=body["time_zone"],
                                  now=datetime.now(UTC))
        return {"detail": REGISTRATION_ACCEPTED}


@members_blp.route("/members/confirmation")
class MemberConfirmation(MethodView):
    @members_blp.arguments(RegistrationConfirmation)
    @members_blp.response(200, MemberOut)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """Confirm my address with the token from the registration mail (once, within a day); then sign in with
        the password of that registration"""
        with transaction() as db:
            return registration.confirm(db, body["token"], datetime.now(UTC))


@members_blp.route("/members/me")
class MyMember(MethodView):
    @require_roles()
    @members_blp.response(200, MemberOut)
    @members_blp.doc(security=BEARER)
    def get(self):
        """Read my member record"""
        with transaction() as db:
            return commands.member_by_id(db, current_principal().member_id)

    @require_roles()
    @members_blp.arguments(ProfilePatch(partial=True))
    @members_blp.response(200, MemberOut)
    @members_blp.doc(security=BEARER)
    def patch(self, changes):
        """Change my profile; publishes member.updated with the whole profile"""
        with transaction() as db:
            return commands.update_profile(db, current_principal().member_id, changes)

    @require_roles()
    @members_blp.arguments(AccountDeletion)
    @members_blp.response(204)
    @members_blp.alt_response(429, **THROTTLED)  # the account's lock after wrong passwords, as for sign-in
    @members_blp.doc(security=BEARER)
    def delete(self, body):
        """Delete my account (password required): every token of mine stops working, my personal data is erased
        here, and member.deleted asks the other services to erase theirs"""
        with transaction() as db:
            outcome = commands.delete_account(db, current_principal().member_id, body["password"],
                                              datetime.now(UTC), max_failures=_account_rules()["max_failures"])
        _settled(outcome)


@members_blp.route("/members/me/password")
class MyPassword(MethodView):
    @require_roles()
    @members_blp.arguments(PasswordChange)
    @members_blp.response(200, TokenOut)
    @members_blp.alt_response(429, **THROTTLED)
    @members_blp.doc(security=BEARER)
    def post(self, body):
        """Change my password: ends every session of mine and answers a new token pair for this one"""
        with transaction() as db:
            outcome = commands.change_password(db, current_principal().member_id, body["old_password"],
                                               body["new_password"], datetime.now(UTC), **_account_rules())
        return _token_pair(_settled(outcome))


@members_blp.route("/auth/token")
class Tokens(MethodView):
    @members_blp.arguments(TokenRequest)
    @members_blp.response(200, TokenOut)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """Exchange e-mail address and password for an access token and a refresh token"""
        with transaction() as db:
            outcome = commands.sign_in(db, body["email"], body["password"], datetime.now(UTC), **_account_rules())
        return _token_pair(_settled(outcome))


@members_blp.route("/auth/refresh")
class TokenRefresh(MethodView):
    @members_blp.arguments(RefreshRequest)
    @members_blp.response(200, TokenOut)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """Exchange a refresh token, once, for a new access token and refresh token"""
        with transaction() as db:
            outcome = commands.rotate_refresh_token(db, body["refresh_token"], datetime.now(UTC))
        return _token_pair(_settled(outcome))


@members_blp.route("/auth/logout")
class Logout(MethodView):
    @members_blp.arguments(RefreshRequest)
    @members_blp.response(204)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """End the session of a refresh token (its access tokens run out within minutes)"""
        with transaction() as db:
            commands.end_session(db, body["refresh_token"])


RESET_ACCEPTED = "If this address has an account, a link to set a new password is on its way; it works for an hour."


@members_blp.route("/auth/password-reset")
class PasswordResets(MethodView):
    @members_blp.arguments(PasswordResetRequest)
    @members_blp.response(202, PasswordResetAccepted)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """Ask for a link to set a new password, by mail; the answer is the same whether the address has an
        account or not"""
        with transaction() as db:
            password_reset.request_reset(db, body["email"], datetime.now(UTC))
        return {"detail": RESET_ACCEPTED}


@members_blp.route("/auth/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @members_blp.arguments(PasswordResetConfirmation)
    @members_blp.response(204)
    @members_blp.alt_response(429, **THROTTLED)
    def post(self, body):
        """Set a new password with the token from the mail (once, within the hour); every session ends"""
        with transaction() as db:
            password_reset.confirm_reset(db, body["token"], body["new_password"], datetime.now(UTC))
