"""What every action runs with: the session, the principal and the running services.

A :class:`Context` is opened once per request (:func:`open_context`) by the API's dependencies and by the
pages' alike, so both pay the same per-key rate limit; the CLI opens one for an operator's admin identity.
The action owns the rest: the access rule (:meth:`Context.require`, the tenant scopes), the audit
(:meth:`Context.audit` in a write's transaction, :meth:`Context.audit_read` batched off the request path for
reads; both record which surface asked) and the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from models.keyword import KeywordMatcher
from service.matching import MatchingService
from service.settings import Settings
from service.store import audit
from service.store.api_keys import KeyIdentity
from service.store.audit_buffer import AuditBuffer
from service.store.changes import local_commits
from service.usecases.errors import Forbidden
from service.usecases.key_cache import KeyCache
from service.usecases.limits import RateLimiter, build_rate_limiter
from training.registry import LoadedModel

ROLE_ADMIN = "admin"
ROLE_HR = "hr"
ROLE_SCHOOL = "school"
HR_ROLES = (ROLE_ADMIN, ROLE_HR)
SCHOOL_ROLES = (ROLE_ADMIN, ROLE_SCHOOL)
ADMIN_ROLES = (ROLE_ADMIN,)

Channel = Literal["api", "web", "cli"]
# How messages name a key of each role ("an HR key", never "a hr key").
KEY_NAMES = {ROLE_ADMIN: "an admin key", ROLE_HR: "an HR key", ROLE_SCHOOL: "a school key"}


class ModelSource(Protocol):
    """Where the served model comes from (:class:`service.model_holder.ModelHolder`, a test's holder)."""

    def get(self) -> LoadedModel | None: ...


@dataclass(frozen=True)
class Services:
    """The long-lived parts an action may use, built once by ``create_app`` (or the CLI)."""

    settings: Settings
    sessionmaker: Callable[[], Session]
    model_holder: ModelSource
    matching: MatchingService  # the trained model (or its keyword fallback)
    plain_matching: MatchingService  # non-personalised: skill overlap only, no trained model (PIPL)
    rate_limiter: RateLimiter
    keys: KeyCache  # verified API keys, for TALENTMATCH_KEY_CACHE_SECONDS; revoke_key forgets one at once
    audit_buffer: AuditBuffer  # reads' audit entries, off the request path; running once the app starts it


def build_services(
    settings: Settings, sessionmaker: Callable[[], Session], model_holder: ModelSource
) -> Services:
    """The services of one process (``create_app``; the CLI builds its own)."""
    floor = settings.min_recommend_score
    return Services(
        settings=settings,
        sessionmaker=sessionmaker,
        model_holder=model_holder,
        matching=MatchingService(
            model_holder.get,
            sessionmaker=sessionmaker,
            min_recommend_score=floor,
            ann_min_pool=settings.ann_min_pool,
            version_check_seconds=settings.data_version_check_seconds,
        ),
        plain_matching=MatchingService(
            _plain_model,
            sessionmaker=sessionmaker,
            min_recommend_score=floor,
            version_check_seconds=settings.data_version_check_seconds,
        ),
        rate_limiter=build_rate_limiter(settings),
        keys=KeyCache(settings.key_cache_seconds),
        audit_buffer=AuditBuffer(
            sessionmaker=sessionmaker,
            journal_dir=settings.audit_journal_path,
            database_url=settings.database_url,
            interval=settings.audit_flush_seconds,
        ),
    )


NON_PERSONALISED = "non-personalised"


@lru_cache(maxsize=1)
def _plain_model() -> LoadedModel:
    """The non-personalised alternative (PIPL): skill overlap by the keyword matcher, no trained model."""
    return LoadedModel(version=NON_PERSONALISED, matcher=KeywordMatcher().fit(), manifest={})


# The identity the command line acts as: the operator, with admin rights, audited as "cli".
OPERATOR = KeyIdentity(key_id="cli", role=ROLE_ADMIN, name="operator")


def require_role(principal: KeyIdentity, roles: tuple[str, ...]) -> None:
    """The one role rule: raise :class:`Forbidden` unless ``principal`` has one of ``roles``."""
    if principal.role not in roles:
        raise Forbidden(
            f"{KEY_NAMES.get(principal.role, 'this key')} may not do this (allowed: {', '.join(roles)})"
        )


@dataclass(frozen=True)
class Context:
    """One request's (or one CLI command's) session, principal and services."""

    session: Session
    principal: KeyIdentity
    services: Services
    via: Channel = "api"

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def enterprise_scope(self) -> str | None:
        """The enterprise an hr key is bound to; None (every enterprise) for admin."""
        return self.principal.enterprise_id if self.principal.role == ROLE_HR else None

    @property
    def school_scope(self) -> str | None:
        """The school a school key is bound to; None (every school) for admin."""
        return self.principal.school_id if self.principal.role == ROLE_SCHOOL else None

    def require(self, roles: tuple[str, ...]) -> None:
        require_role(self.principal, roles)

    def matching(self, *, personalised: bool = True) -> MatchingService:
        """The matching service: the trained model's, or the non-personalised one (PIPL opt-out)."""
        return self.services.matching if personalised else self.services.plain_matching

    def audit(self, action: str, resource: str, detail: Mapping[str, Any] | None = None) -> None:
        """Add an audit entry to this action's transaction (committed with its change, or not at all); never
        personal data beyond pseudonymous ids."""
        audit.record(
            session=self.session,
            key_id=self.principal.key_id,
            action=action,
            resource=resource,
            detail={"via": self.via, **dict(detail or {})},
        )

    def commit(self) -> None:
        """Commit the action's transaction, if it began one: a read answered from memory (the snapshot,
        the key cache, the audit journal) has none, and committing an empty one costs ~0.1 ms.

        A commit that moved the data version then brings this process's candidate indexes up to date in
        this thread (:meth:`~service.matching.MatchingService.catch_up`): the write pays for its update, the
        reads running beside it never wait for one, and the writer's next read has its write."""
        if not self.session.in_transaction():
            return
        moved = local_commits()
        self.session.commit()
        if local_commits() != moved:
            self.services.matching.catch_up()
            self.services.plain_matching.catch_up()

    def audit_read(self, action: str, resource: str, detail: Mapping[str, Any] | None = None) -> None:
        """Audit an action that changes nothing: journaled now and written to the table in a batch by the
        running app's :class:`~service.store.audit_buffer.AuditBuffer` (never lost, see there); without a
        running app (the command line) added to this action's transaction like :meth:`audit`."""
        buffer = self.services.audit_buffer
        if not buffer.running:
            self.audit(action, resource, detail)
            return
        buffer.record(
            key_id=self.principal.key_id,
            action=action,
            resource=resource,
            detail={"via": self.via, **dict(detail or {})},
        )


def open_context(services: Services, session: Session, principal: KeyIdentity, *, via: Channel) -> Context:
    """A context for ``principal``; API requests and web pages take one token of the key's rate limit
    (:class:`~service.usecases.errors.RateLimited` when none is left). The CLI is not limited."""
    if via != "cli":
        services.rate_limiter.check(principal.key_id)
    return Context(session=session, principal=principal, services=services, via=via)
