"""The serving side of the registry: holds the current model and swaps in a new one by reference.

Requests call :meth:`ModelHolder.get` once and keep the object they got, so a request in flight finishes on
the model it started with while new requests get the new one. A new version is loaded completely (and its
sha256 verified) before the reference changes; a version that fails is refused and the old model stays.

Before any trained model is promoted (a fresh install, or a first model that did not beat the keyword
matcher), :meth:`ModelHolder.get` returns the keyword matcher as :data:`FALLBACK_VERSION`, so HR and schools
get skill-ranked answers, labelled as such, instead of errors. ``TALENTMATCH_KEYWORD_FALLBACK=false`` turns
that off (model-dependent routes then answer 503 ``model_not_ready``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from models.keyword import KeywordMatcher
from service.settings import Settings
from training.registry import ArtifactError, LoadedModel, Registry

log = logging.getLogger(__name__)

FALLBACK_VERSION = "keyword-baseline"


def keyword_fallback() -> LoadedModel:
    """The keyword matcher as a servable model: what answers before the first trained model."""
    return LoadedModel(
        version=FALLBACK_VERSION,
        matcher=KeywordMatcher().fit(),
        manifest={
            "version": FALLBACK_VERSION,
            "fallback": True,
            "description": "share of required skills held; no trained model is promoted yet",
        },
    )


@dataclass(frozen=True)
class HolderStatus:
    """What the holder serves and what happened at its last check (for the admin route and /healthz)."""

    serving_version: str | None
    pointer_version: str | None
    fallback: bool
    last_check_at: str | None
    last_error: str | None


class ModelHolder:
    """Holds the current :class:`LoadedModel` and reloads it when ``ARTIFACTS_DIR/CURRENT`` moves.

    Parameters
    ----------
    settings
        Uses ``artifacts_dir`` and ``model_poll_seconds``.
    registry
        Defaults to ``Registry(settings.artifacts_dir)``.
    """

    def __init__(self, settings: Settings, *, registry: Registry | None = None) -> None:
        self.settings = settings
        self.registry = registry or Registry(settings.artifacts_dir)
        self._model: LoadedModel | None = None
        self._check_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refused: str | None = None
        self._pointer_version: str | None = None
        self._last_check_at: str | None = None
        self._last_error: str | None = None
        self._fallback = keyword_fallback() if settings.keyword_fallback else None

    def get(self) -> LoadedModel | None:
        """The model to use for one whole request: the trained one, else the keyword fallback (or None)."""
        return self._model or self._fallback

    @property
    def version(self) -> str | None:
        """The trained model's version (None while only the fallback serves)."""
        model = self._model
        return model.version if model else None

    @property
    def serving_fallback(self) -> bool:
        return self._model is None and self._fallback is not None

    def status(self) -> HolderStatus:
        serving = self.get()
        return HolderStatus(
            serving.version if serving else None,
            self._pointer_version,
            self.serving_fallback,
            self._last_check_at,
            self._last_error,
        )

    def check_now(self) -> bool:
        """Load the version the pointer names if it is not the one served; True when the model changed.

        A corrupted pointer or a version that fails verification is refused (logged once per version);
        the model already served stays.
        """
        with self._check_lock:
            self._last_check_at = datetime.now(UTC).isoformat(timespec="seconds")
            try:
                wanted = self.registry.current_version()
            except ArtifactError as error:
                self._refuse("pointer", f"{error}; keeping model {self.version}")
                return False
            self._pointer_version = wanted
            if wanted is None or wanted == self.version:
                if wanted is not None:
                    self._last_error, self._refused = None, None
                return False
            try:
                model = self.registry.load(wanted)
            except ArtifactError as error:
                self._refuse(wanted, f"{error}; keeping model {self.version}")
                return False
            previous, self._model = self._model, model
            self._refused = None
            self._last_error = None
            log.info("now serving model %s (was %s)", model.version, previous.version if previous else None)
            return True

    def _refuse(self, what: str, message: str) -> None:
        self._last_error = message
        if self._refused != what:
            log.error("model reload refused: %s", message)
            self._refused = what
        else:
            log.debug("model reload refused again: %s", message)

    def start(self) -> None:
        """Load the current model now, then poll the pointer every ``model_poll_seconds`` (daemon thread)."""
        self.check_now()
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="model-holder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _poll(self) -> None:
        interval = max(0.05, float(self.settings.model_poll_seconds))
        while not self._stop.wait(interval):
            try:
                self.check_now()
            except Exception:  # noqa: BLE001 - the poller must survive anything
                log.exception("model poll failed")
