"""API keys: creation, listing, revocation and authentication.

A key reads ``tm_<key_id>_<secret>``. Only a salted HMAC-SHA256 of the secret is stored; the
plaintext is shown once when the key is created. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store import web_sessions
from service.store.tables import ApiKey, Enterprise, School

ROLES = ("admin", "hr", "school")
KEY_PREFIX = "tm"


class InvalidKeyRequest(ValueError):
    """A key cannot be created as asked (bad role, missing or unknown scope)."""


@dataclass(frozen=True)
class KeyIdentity:
    """Who is calling: the authenticated key, never its secret."""

    key_id: str
    role: str
    enterprise_id: str | None = None
    school_id: str | None = None
    name: str = ""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(secret: str, salt: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def create_api_key(
    *,
    session: Session,
    role: str,
    enterprise_id: str | None = None,
    school_id: str | None = None,
    name: str = "",
) -> tuple[ApiKey, str]:
    """Add a key to the session and return it with its plaintext (the only time it exists).

    Raises :class:`InvalidKeyRequest` when the role is unknown or its scope is missing or unknown:
    ``hr`` needs an existing enterprise, ``school`` an existing school, ``admin`` neither.
    """
    if role not in ROLES:
        raise InvalidKeyRequest(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "hr":
        if not enterprise_id:
            raise InvalidKeyRequest("an hr key needs --enterprise ID")
        if school_id:
            raise InvalidKeyRequest("an hr key cannot have --school")
        if session.get(Enterprise, enterprise_id) is None:
            raise InvalidKeyRequest(f"enterprise {enterprise_id!r} does not exist")
    elif role == "school":
        if not school_id:
            raise InvalidKeyRequest("a school key needs --school ID")
        if enterprise_id:
            raise InvalidKeyRequest("a school key cannot have --enterprise")
        if session.get(School, school_id) is None:
            raise InvalidKeyRequest(f"school {school_id!r} does not exist")
    elif enterprise_id or school_id:
        raise InvalidKeyRequest("an admin key has no --enterprise or --school")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    key = ApiKey(
        key_id=key_id,
        name=name,
        role=role,
        enterprise_id=enterprise_id,
        school_id=school_id,
        salt=salt,
        key_hash=_hash(secret, salt),
        created_at=utcnow(),
        revoked_at=None,
    )
    session.add(key)
    session.flush()
    return key, f"{KEY_PREFIX}_{key_id}_{secret}"


def list_api_keys(*, session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)))


def revoke_api_key(*, session: Session, key_id: str) -> ApiKey | None:
    """Mark the key revoked (idempotent) and end its web sessions; ``None`` when there is no such key."""
    key = session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
    if key is not None:
        web_sessions.end_for_key(session=session, key_id=key_id)
    return key


def parse_key(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed key, else ``None``."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    if len(parts[1]) > 32 or len(parts[2]) > 200:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True)
class StoredKey:
    """A key's row as authentication reads it: its identity and the salted HMAC of its secret."""

    identity: KeyIdentity
    salt: str
    key_hash: str
    revoked: bool


def load_key(*, session: Session, key_id: str) -> StoredKey | None:
    """The stored key ``key_id``, revoked or not; ``None`` when there is none."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return None
    identity = KeyIdentity(
        key_id=key.key_id,
        role=key.role,
        enterprise_id=key.enterprise_id,
        school_id=key.school_id,
        name=key.name,
    )
    return StoredKey(
        identity=identity, salt=key.salt, key_hash=key.key_hash, revoked=key.revoked_at is not None
    )


def verify(stored: StoredKey | None, secret: str) -> KeyIdentity | None:
    """The identity of ``stored`` when ``secret`` is its secret and it is not revoked; ``None`` otherwise.

    The HMAC is computed in every case (a dummy one for a missing key), so timing does not reveal which
    key ids exist.
    """
    if stored is None:
        hmac.compare_digest(_hash(secret, "00" * 16), "0" * 64)
        return None
    valid = hmac.compare_digest(_hash(secret, stored.salt), stored.key_hash)
    return stored.identity if valid and not stored.revoked else None


def authenticate(*, session: Session, token: str) -> KeyIdentity | None:
    """The identity of a valid, unrevoked key; ``None`` for anything else (read from the store each time;
    the server goes through :class:`service.usecases.key_cache.KeyCache`)."""
    parsed = parse_key(token)
    if parsed is None:
        return None
    key_id, secret = parsed
    return verify(load_key(session=session, key_id=key_id), secret)
