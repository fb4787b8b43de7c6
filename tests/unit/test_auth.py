"""Bearer tokens: only an EdDSA token signed by catalog's key, for the academy, unexpired, names a principal.

The malicious tokens are crafted with PyJWT (and, where PyJWT itself refuses to sign them, by hand with its
base64url helpers), because the point is to show that verify_token refuses what an attacker can make.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint
from jwt.utils import base64url_decode, base64url_encode

from services.assessment import SERVICE as ANY_SERVICE
from shared import testing
from shared.auth import (
    AUDIENCE,
    ISSUER,
    Principal,
    current_principal,
    generate_keypair,
    issue_token,
    require_roles,
    verify_token,
)
from shared.errors import Unauthorized
from shared.testing import bearer, make_runtime
from shared.web import PROBLEM_JSON, create_service_app

MEMBER_ID = "m-1"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


def claims(**overrides) -> dict:
    """Claims as issue_token writes them; an override of None drops the claim."""
    now = datetime.now(UTC)
    base = {
        "sub": MEMBER_ID,
        "roles": ["member"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "a-token-id",
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def segment(data: dict) -> str:
    return base64url_encode(json.dumps(data, separators=(",", ":"), default=str).encode()).decode()


def numeric(moment: datetime) -> int:
    return int(moment.timestamp())


# --- verify_token -----------------------------------------------------------------------------------------
def test_a_valid_token_names_the_member_and_their_roles(keys):
    private_pem, public_pem = keys
    token = issue_token(private_pem, MEMBER_ID, ["reviewer", "member"])

    principal = verify_token(public_pem, token)

    assert principal == Principal(member_id=MEMBER_ID, roles=frozenset({"member", "reviewer"}))
    assert principal.has_any(["reviewer", "operator"])
    assert not principal.has_any(["operator"])


def test_the_token_is_signed_with_eddsa_whatever_a_caller_might_prefer(keys):
    header = jwt.get_unverified_header(issue_token(keys[0], MEMBER_ID, ["member"]))

    assert header["alg"] == "EdDSA"


def test_an_expired_token_is_refused_as_expired(keys):
    private_pem, public_pem = keys
    token = issue_token(private_pem, MEMBER_ID, ["member"], ttl=timedelta(seconds=-1))

    with pytest.raises(Unauthorized) as refused:
        verify_token(public_pem, token)

    assert "expired" in refused.value.detail
    assert refused.value.status == 401


def test_a_token_signed_by_another_key_is_refused(keys):
    other_private_pem, _ = generate_keypair()
    token = issue_token(other_private_pem, MEMBER_ID, ["operator"])

    with pytest.raises(Unauthorized):
        verify_token(keys[1], token)


def test_a_token_whose_payload_was_changed_after_signing_is_refused(keys):
    private_pem, public_pem = keys
    header, payload, signature = issue_token(private_pem, MEMBER_ID, ["member"]).split(".")
    promoted = json.loads(base64url_decode(payload))
    promoted["roles"] = ["operator"]
    tampered = ".".join([header, segment(promoted), signature])

    with pytest.raises(Unauthorized):
        verify_token(public_pem, tampered)


def test_an_unsigned_token_with_alg_none_is_refused(keys):
    token = jwt.encode(claims(roles=["operator"]), None, algorithm="none")
    assert jwt.get_unverified_header(token)["alg"] == "none"  # the attack is what it claims to be

    with pytest.raises(Unauthorized):
        verify_token(keys[1], token)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_a_real_signature_under_an_alg_none_header_is_refused(keys, alg):
    # Some verifiers look up the algorithm by the header's spelling; a valid signature must not rescue it.
    private_pem, public_pem = keys
    _, payload, signature = issue_token(private_pem, MEMBER_ID, ["operator"]).split(".")
    token = ".".join([segment({"alg": alg, "typ": "JWT"}), payload, signature])

    with pytest.raises(Unauthorized):
        verify_token(public_pem, token)


def test_an_hs256_token_keyed_with_the_public_key_is_refused(keys):
    # The classic key-confusion attack: the public key is public, so anyone can make this HMAC. PyJWT refuses
    # to sign with a PEM as HMAC secret, so the token is assembled by hand.
    _, public_pem = keys
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims(roles=['operator']))}"
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64url_encode(mac).decode()}"

    with pytest.raises(Unauthorized):
        verify_token(public_pem, token)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "another-audience"}, id="wrong audience"),
        pytest.param({"aud": None}, id="no audience"),
        pytest.param({"iss": "someone-else"}, id="wrong issuer"),
        pytest.param({"iss": None}, id="no issuer"),
        pytest.param({"sub": None}, id="no subject"),
        pytest.param({"exp": None}, id="no expiry"),
        pytest.param({"iat": None}, id="no issued-at"),
        pytest.param({"roles": "operator"}, id="roles a string"),
        pytest.param({"roles": {"operator": True}}, id="roles an object"),
        pytest.param({"roles": 7}, id="roles a number"),
    ],
)
def test_a_token_with_wrong_or_missing_claims_is_refused(keys, overrides):
    private_pem, public_pem = keys
    token = jwt.encode(claims(**overrides), private_pem, algorithm="EdDSA")

    with pytest.raises(Unauthorized):
        verify_token(public_pem, token)


def test_the_claims_helper_makes_an_acceptable_token(keys):
    # Guards the parametrised test above: each of its tokens fails only because of its override.
    private_pem, public_pem = keys
    token = jwt.encode(claims(), private_pem, algorithm="EdDSA")

    assert verify_token(public_pem, token).member_id == MEMBER_ID


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "...."])
def test_a_token_that_is_not_a_jwt_is_refused(keys, token):
    with pytest.raises(Unauthorized):
        verify_token(keys[1], token)


# --- through HTTP -----------------------------------------------------------------------------------------
def probe_blueprint() -> Blueprint:
    """Two views behind require_roles: one for any signed-in caller, one for operators only."""
    blueprint = Blueprint("auth_probe", __name__, url_prefix="/probe")

    @blueprint.route("/anyone")
    class Anyone(MethodView):
        @require_roles()
        def get(self):
            principal = current_principal()
            return {"member_id": principal.member_id, "roles": sorted(principal.roles)}

    @blueprint.route("/operators")
    class OperatorsOnly(MethodView):
        @require_roles("operator")
        def get(self):
            return {"member_id": current_principal().member_id}

    return blueprint


@pytest.fixture
def client(tmp_path):
    # A real service app (the same error handling every service has), with the probe views added.
    runtime = make_runtime(ANY_SERVICE, tmp_path)
    app = create_service_app(runtime, title="auth probe", blueprints=[probe_blueprint()])
    yield app.test_client()
    runtime.close()


def assert_problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    body = answer.get_json(force=True)
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"], body
    return body


def test_a_valid_bearer_token_reaches_the_view_as_its_principal(client):
    answer = client.get("/probe/anyone", headers=bearer(MEMBER_ID, "member", "reviewer"))

    assert answer.status_code == 200
    assert answer.json == {"member_id": MEMBER_ID, "roles": ["member", "reviewer"]}


def test_no_authorization_header_is_a_401_problem(client):
    assert_problem(client.get("/probe/anyone"), 401)


@pytest.mark.parametrize(
    "header",
    ["Basic xyz", "Basic bS0xOnNlY3JldA==", "Bearer", "Bearer ", "Token abc.def.ghi", "bearer-abc.def.ghi"],
)
def test_an_authorization_header_without_a_bearer_token_is_a_401_problem(client, header):
    assert_problem(client.get("/probe/anyone", headers={"Authorization": header}), 401)


def test_the_bearer_scheme_is_case_insensitive(client):
    # RFC 9110 section 11.1: auth schemes are case-insensitive.
    token = bearer(MEMBER_ID)["Authorization"].split(" ", 1)[1]

    assert client.get("/probe/anyone", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_an_expired_token_over_http_says_it_expired(client):
    token = issue_token(testing.signing_keypair()[0], MEMBER_ID, ["member"], ttl=timedelta(seconds=-1))

    body = assert_problem(client.get("/probe/anyone", headers={"Authorization": f"Bearer {token}"}), 401)

    assert "expired" in body["detail"]


def test_a_forged_token_over_http_is_a_401_problem(client):
    stranger_private_pem, _ = generate_keypair()
    token = issue_token(stranger_private_pem, MEMBER_ID, ["operator"])

    assert_problem(client.get("/probe/operators", headers={"Authorization": f"Bearer {token}"}), 401)


def test_a_member_without_the_needed_role_gets_a_403_problem(client):
    body = assert_problem(client.get("/probe/operators", headers=bearer(MEMBER_ID, "member")), 403)

    assert "operator" in body["detail"]


def test_a_caller_with_the_needed_role_gets_through(client):
    answer = client.get("/probe/operators", headers=bearer("op-1", "member", "operator"))

    assert answer.status_code == 200
    assert answer.json == {"member_id": "op-1"}


def test_a_401_tells_the_client_which_scheme_to_use(client):
    answer = client.get("/probe/anyone")

    assert answer.status_code == 401
    assert answer.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
