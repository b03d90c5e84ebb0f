"""Runtime configuration, read from ``TALENTMATCH_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SESSION_SECRET = "change-me-in-production"


class Settings(BaseSettings):
    """Everything an operator can configure. Nothing connects when this is built."""

    model_config = SettingsConfigDict(env_prefix="TALENTMATCH_", extra="ignore")

    # `production` makes `talentmatch serve` refuse insecure defaults (the session secret) instead of
    # warning about them.
    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///var/talentmatch.db"
    artifacts_dir: Path = Path("var/artifacts")

    # Model registry and serving
    model_poll_seconds: float = 10.0
    # Relative NDCG drop vs the serving model that still passes the gate; two fits differ by ~1-4%.
    gate_tolerance: float = 0.05
    keep_versions: int = 5
    # Processes a retrain uses: with 2 the artifact's fit on all the data runs beside the holdout fit and
    # evaluation (the same model, ~40% less wall time, twice the memory); 1 runs them one after the other.
    train_jobs: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), ge=1)
    serving_threads: int = 1
    # Approximate retrieval (hnswlib, models.ann) for more seeking graduates than this; 0 turns it off.
    # Unset: the threshold the model was trained with (``MatcherConfig.ann_min_pool``, 200,000).
    ann_min_pool: int | None = Field(default=None, ge=0)
    # Until a trained model is promoted (or when none passed the gate), rank by the keyword matcher
    # (share of required skills held) and say so, instead of answering 503.
    keyword_fallback: bool = True
    # Candidates and job suggestions scoring below this (the estimated probability that the pairing
    # succeeds) are not presented as recommendations: the API leaves them out unless asked, the pages
    # fold them into "other graduates" / "other vacancies".
    min_recommend_score: float = Field(default=0.02, ge=0.0, le=1.0)
    # `exposure`: a vacancy's candidates are re-ordered (never re-scored) so that each group of graduates
    # (by `fair_rerank_by`) gets its share of the top while the list keeps 98% of its DCG
    # (models.rerank, docs/fairness.md); `rerank=` on a request overrides it. Off by default.
    fair_rerank: Literal["none", "exposure"] = "none"
    fair_rerank_by: Literal[
        "school", "school_kind", "program_kind", "order_class", "education", "district"
    ] = "school_kind"

    # HTTP limits
    max_body_bytes: int = 1_000_000
    rate_limit_per_minute: int = 1200
    # With a Redis URL (redis://host:6379/0) each key's rate budget is kept there and shared by every worker
    # and replica using it; without one each process counts on its own (service.usecases.limits).
    redis_url: str | None = None
    # A programme holds at most this many graduates: an upload taking it past the cap is refused (a
    # placement plan scores the whole cohort at once).
    max_program_graduates: int = Field(default=5000, ge=1)
    cors_origins: list[str] = []
    # A verified API key is remembered this long per process (its secret still checked on every request):
    # a key revoked through another process (the CLI, another worker) is refused at most this much later;
    # the process that revoked it refuses it at once. 0 reads the key from the store on every request.
    key_cache_seconds: float = Field(default=5.0, ge=0.0, le=300.0)
    # A read of the store's data version answers the requests of the next this-many seconds
    # (service.matching.VersionWatch): a write through this process is seen by the next request, one through
    # another worker or replica at most this much later (plus its index update; issue 14 asks <= 2 s).
    # 0 reads the version on every request.
    data_version_check_seconds: float = Field(default=0.5, ge=0.0, le=2.0)
    # How many candidate and recommendation answers one worker computes at once, each on a thread of its own
    # (service.api.compute). The work holds the interpreter lock nearly all the time, so more threads only
    # take turns at it; waiting requests queue on the event loop instead. 0: anyio's shared pool (40).
    compute_threads: int = Field(default=1, ge=0, le=64)

    # Web pages
    session_secret: str = DEFAULT_SESSION_SECRET
    session_https_only: bool = False
    # A signed-in session ends after this long without a request, and this long after sign-in at most.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_lifetime_hours: float = Field(default=8.0, gt=0.0, le=24.0 * 7)

    # Personal data
    retention_days: int = 365
    # Outcomes recorded by HR (who recorded them, the model version and the score shown) are kept at least
    # this long for an audit of the decisions: `purge` keeps a graduate with a younger outcome (>= 6 months).
    outcome_retention_days: int = Field(default=183, ge=0)

    # Vacancy texts are checked for discriminatory requirements (gender, marriage and childbirth, age,
    # ethnicity, hukou, appearance, health status; models.posting_check): `warn` returns the findings with
    # the vacancy, `refuse` refuses the text (422 discriminatory_posting; an import or upload as a whole).
    posting_check: Literal["warn", "refuse"] = "warn"

    # HR may undo an outcome it recorded (a hire placed by mistake) for this long after recording it;
    # afterwards the outcome stands (service.usecases.outcomes.undo_outcome). 0 turns undo off.
    undo_seconds: int = Field(default=3600, ge=0, le=7 * 24 * 3600)

    # Audit entries of reads are journaled to a local file at once and written to the table by a background
    # thread this often (service.store.audit_buffer); writes keep theirs in their own transaction. The
    # journal folder defaults to `audit-journal` beside the artifacts folder.
    audit_flush_seconds: float = Field(default=0.5, gt=0.0, le=3600.0)
    audit_journal_dir: Path | None = None

    @property
    def audit_journal_path(self) -> Path:
        return self.audit_journal_dir or self.artifacts_dir.parent / "audit-journal"

    @property
    def insecure_defaults(self) -> list[str]:
        """The environment variables still at an insecure default (refused in production)."""
        weak = self.session_secret in (DEFAULT_SESSION_SECRET, "")
        return ["TALENTMATCH_SESSION_SECRET"] if weak else []


@lru_cache
def get_settings() -> Settings:
    return Settings()
