"""Server-side web sessions: started at sign-in, checked on every page, ended by sign-out, by revoking the
key, after ``idle`` without a request and ``lifetime`` after sign-in.

The browser holds a random token (256 bits); the table holds only its sha256, so neither a copy of the
database nor knowing a key id lets anyone make a session. Times are naive UTC like every other column;
the caller passes ``now`` so a test can move the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.store.tables import ApiKey, WebSession

# last_seen_at is written at most this often per session: a page view is not a write each time.
TOUCH_EVERY = timedelta(seconds=60)
TOKEN_BYTES = 32


@dataclass(frozen=True)
class ActiveSession:
    """A live session: its key and the token's hash (which also derives its CSRF token)."""

    token_hash: str
    key: ApiKey


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(*, session: Session, key_id: str, now: datetime, lifetime: timedelta) -> str:
    """Add a session for ``key_id`` and return its token (the cookie's only secret; not stored).

    Sessions past their end are deleted on the way, so the table does not grow with abandoned ones.
    """
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            key_id=key_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def resolve(*, session: Session, token: object, now: datetime, idle: timedelta) -> ActiveSession | None:
    """The live session behind ``token``, its last-seen time moved to ``now``; ``None`` (and the row
    deleted) when it is unknown, past its lifetime, idle too long or its key is revoked."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    row = session.get(WebSession, token_hash(token))
    if row is None:
        return None
    key = session.get(ApiKey, row.key_id)
    if key is None or key.revoked_at is not None or now >= row.expires_at or now - row.last_seen_at >= idle:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(token_hash=row.token_hash, key=key)


def end(*, session: Session, token: object) -> None:
    """Delete the session behind ``token`` (sign-out); nothing when there is none."""
    if isinstance(token, str) and token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def end_for_key(*, session: Session, key_id: str) -> int:
    """Delete every session of ``key_id`` (its revocation); returns how many there were."""
    result = session.execute(delete(WebSession).where(WebSession.key_id == key_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_for_key(*, session: Session, key_id: str) -> int:
    query = select(func.count()).select_from(WebSession).where(WebSession.key_id == key_id)
    return int(session.scalar(query) or 0)


def csrf_for(active: ActiveSession) -> str:
    """The session's CSRF token: derived from (so bound to) the session, useless without its cookie."""
    return hmac.new(bytes.fromhex(active.token_hash), b"csrf", hashlib.sha256).hexdigest()
