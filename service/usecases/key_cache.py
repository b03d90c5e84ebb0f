"""API keys verified once, then remembered for a few seconds: a request does not read its key's row each time.

:class:`KeyCache` keeps, per key id, the key's stored row (its identity and the salted HMAC of its secret,
never the secret or the presented key) for ``TALENTMATCH_KEY_CACHE_SECONDS`` after a successful check. The
secret is still checked against that HMAC on every request, so only the database read is saved.

Revocation: :func:`service.usecases.admin.revoke_key` calls :meth:`KeyCache.forget` after its commit, so the
process that revoked a key refuses it from the next request on. Another process (the ``talentmatch apikey
revoke`` command, another worker or replica) learns of it when its entry is older than the TTL: at most
``TALENTMATCH_KEY_CACHE_SECONDS`` later (0 turns the cache off). Unknown, revoked and wrongly presented keys
are never cached: they are read from the store every time, as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.orm import Session

from service.store.api_keys import KeyIdentity, StoredKey, load_key, parse_key, verify

# Keys are created by administrators, so a process sees few; the bound only keeps memory finite.
MAX_ENTRIES = 10_000


class KeyCache:
    """Verified keys' stored rows by key id, each kept ``ttl`` seconds (``ttl <= 0``: no cache)."""

    def __init__(
        self, ttl: float, *, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, StoredKey]] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by forget(): a row read from the store before a revocation here is not cached after it.
        self._generation = 0

    def authenticate(self, *, session: Session, token: str) -> KeyIdentity | None:
        """The identity of a valid, unrevoked key (as :func:`service.store.api_keys.authenticate`), reading
        the key's row only when it is not cached or its entry is older than the TTL."""
        parsed = parse_key(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        stored = self._cached(key_id)
        if stored is not None:
            return verify(stored, secret)
        generation = self._generation
        stored = load_key(session=session, key_id=key_id)
        identity = verify(stored, secret)
        if identity is not None and stored is not None:
            self._remember(key_id, stored, generation)
        return identity

    def known(self, token: str) -> KeyIdentity | None:
        """The identity of ``token`` when its key is cached and the secret matches, without the store (None:
        ask :meth:`authenticate`, which reads it)."""
        parsed = parse_key(token)
        if parsed is None:
            return None
        stored = self._cached(parsed[0])
        return verify(stored, parsed[1]) if stored is not None else None

    def forget(self, key_id: str) -> None:
        """Drop ``key_id`` (its revocation in this process): its next request reads the store."""
        with self._lock:
            self._entries.pop(key_id, None)
            self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)

    def _cached(self, key_id: str) -> StoredKey | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None:
                return None
            stored_at, stored = entry
            if self.clock() - stored_at >= self.ttl:
                del self._entries[key_id]
                return None
            return stored

    def _remember(self, key_id: str, stored: StoredKey, generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return  # a key was revoked here while this row was read: it may be the stale one
            self._entries[key_id] = (self.clock(), stored)
            self._entries.move_to_end(key_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
