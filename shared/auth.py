"""Bearer JWTs: issued by catalog with its Ed25519 private key, verified everywhere with the public key."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app, g, request

from shared.errors import Forbidden, Unauthorized

ALGORITHMS = ["EdDSA"]  # fixed: a token's own "alg" header is never trusted
ISSUER = "academy-catalog"
AUDIENCE = "academy"
ROLES = ("member", "reviewer", "operator", "partner")
# Access tokens are checked with the public key alone, so nothing can revoke one: they live only minutes, and
# clients renew them with a refresh token, which catalog can revoke (ACCESS_TOKEN_MINUTES sets catalog's own).
ACCESS_TOKEN_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class Principal:
    member_id: str
    roles: frozenset[str]

    def has_any(self, roles) -> bool:
        return bool(self.roles & set(roles))

    def may_read(self, owner_id: str, reader_roles) -> bool:
        """Whether this caller may read something of `owner_id`'s: their own, or by one of `reader_roles`."""
        return self.member_id == owner_id or self.has_any(reader_roles)


def generate_keypair() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def ensure_keypair(directory: Path) -> tuple[Path, Path]:
    """Write jwt-private.pem / jwt-public.pem into `directory` unless both exist; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if not (private_path.exists() and public_path.exists()):
        private_pem, public_pem = generate_keypair()
        private_path.write_text(private_pem)
        private_path.chmod(0o600)
        public_path.write_text(public_pem)
    return private_path, public_path


def issue_token(private_key_pem: str, member_id: str, roles: list[str], ttl: timedelta = ACCESS_TOKEN_TTL) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": member_id,
        "roles": sorted(roles),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, private_key_pem, algorithm="EdDSA")


@functools.lru_cache(maxsize=8)
def _public_key(public_key_pem: str):
    """The parsed key: parsing the PEM again for every request cost more than checking the signature."""
    return serialization.load_pem_public_key(public_key_pem.encode())


def verify_token(public_key_pem: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            _public_key(public_key_pem),
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("the token is not valid") from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list):
        raise Unauthorized("the token is not valid")
    return Principal(member_id=str(claims["sub"]), roles=frozenset(map(str, roles)))


def current_principal() -> Principal:
    """The caller of this request; raises Unauthorized without a valid bearer token."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send a bearer token in the Authorization header")
        g.principal = verify_token(current_app.config["JWT_PUBLIC_KEY"], token.strip())
    return g.principal


def require_roles(*roles: str):
    """View decorator: the caller must hold one of `roles` (any authenticated caller when none given)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if roles and not principal.has_any(roles):
                raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
            return view(*args, **kwargs)

        return wrapper

    return decorate
