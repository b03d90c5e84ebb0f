"""The model registry: versioned, verified artifacts under ``ARTIFACTS_DIR`` and the current pointer.

Layout::

    ARTIFACTS_DIR/
      CURRENT                      {"version": ..., "previous": ..., "promoted_at": ...}
      20260510T101500Z-1a2b3c4d/   one version: the model files and manifest.json
      .train.lock                  held by a running ``talentmatch train``
      .pointer.lock                serialises pointer updates (promote, rollback)
      .tmp-*                       a version being written, or one being deleted

A version directory is written under a ``.tmp-*`` name and renamed into place when complete, and the
pointer is replaced with ``os.replace``: a crash at any moment leaves either the old state or the new one.
A version name is its UTC creation time plus the first 8 hex digits of a hash over its files' sha256
(``content_hash``), so editing a file *and* its manifest entry still fails verification.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from models.protocol import Matcher
from training.lock import FileLock

log = logging.getLogger(__name__)

VERSION_PATTERN = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
POINTER_NAME = "CURRENT"
MANIFEST_NAME = "manifest.json"
TRAIN_LOCK_NAME = ".train.lock"
POINTER_LOCK_NAME = ".pointer.lock"
# The artifacts folder and each version in it are the owner's only (models are trained on personal data).
PRIVATE_DIR_MODE = 0o700
TEMP_PREFIX = ".tmp-"
MANIFEST_FORMAT = 1
# Library name in the manifest -> distribution name to ask importlib.metadata.
LIBRARIES: dict[str, str] = {
    "numpy": "numpy",
    "scipy": "scipy",
    "scikit-learn": "scikit-learn",
    "lightfm": "rectools-lightfm",
    "pandas": "pandas",
    "joblib": "joblib",
}
# A different major.minor of these can change how a pickled estimator behaves: refuse to load.
STRICT_LIBRARIES = ("lightfm", "scikit-learn")


class ArtifactError(Exception):
    """A model artifact or the pointer is missing, corrupt, tampered with, or incompatible."""


@dataclass(frozen=True)
class Pointer:
    """The content of ``ARTIFACTS_DIR/CURRENT``."""

    version: str
    previous: str | None = None
    promoted_at: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"version": self.version, "previous": self.previous, "promoted_at": self.promoted_at}


@dataclass(frozen=True)
class LoadedModel:
    """A verified, loaded model version. Never mutated: a new model is a new object."""

    version: str
    matcher: Matcher
    manifest: dict[str, Any] = field(repr=False)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a trained model, plus Python's."""
    versions = {}
    for name, dist in LIBRARIES.items():
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    versions["python"] = platform.python_version()
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(files: Mapping[str, str]) -> str:
    """One hash over every file's relative path and sha256, in a fixed order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]}\n".encode())
    return digest.hexdigest()


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for item in sorted(path.rglob("*")):
        if item.is_file():
            fd = os.open(item, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for folder in sorted({p.parent for p in path.rglob("*")} | {path}):
        _fsync_dir(folder)


# The model code is imported when a model is loaded, not with the registry: ``models list``, ``show``,
# ``promote`` and the pointer checks need none of it (it pulls in scikit-learn and LightFM).
def model_format() -> int:
    """The artifact format this code reads (``models.matcher.Matcher.ARTIFACT_FORMAT``)."""
    from models.matcher import Matcher as TrainedMatcher

    return int(TrainedMatcher.ARTIFACT_FORMAT)


def _default_loader(directory: Path) -> Matcher:
    from models.matcher import Matcher as TrainedMatcher

    return TrainedMatcher.load(directory)


class Registry:
    """Versions of the model under one artifacts directory.

    Parameters
    ----------
    artifacts_dir
        The only directory models are loaded from.
    loader
        Turns a verified version directory into a model; defaults to ``models.matcher.Matcher.load``.
        It runs only after every file's sha256 matched the manifest.
    """

    def __init__(self, artifacts_dir: str | Path, *, loader: Callable[[Path], Matcher] | None = None) -> None:
        self.root = Path(artifacts_dir)
        self._loader = loader or _default_loader

    # ------------------------------------------------------------------ paths and locks
    @property
    def pointer_path(self) -> Path:
        return self.root / POINTER_NAME

    def train_lock(self) -> FileLock:
        """The lock a ``train`` holds for its whole run (non-blocking: a second train fails at once)."""
        return FileLock(self.root / TRAIN_LOCK_NAME)

    @contextlib.contextmanager
    def _pointer_lock(self) -> Iterator[None]:
        # Blocking: pointer updates are short; this only orders a promote against a rollback.
        self.root.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(self.root / POINTER_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def version_dir(self, version: str) -> Path:
        """The directory of ``version``; the name is checked so nothing outside the root is reached."""
        if not isinstance(version, str) or not VERSION_PATTERN.match(version):
            raise ArtifactError(
                f"{version!r} is not a model version name (expected YYYYMMDDTHHMMSSZ-xxxxxxxx)"
            )
        return self.root / version

    # ------------------------------------------------------------------ pointer
    def read_pointer(self) -> Pointer | None:
        """The pointer, or None when no model was ever promoted.

        Raises
        ------
        ArtifactError
            The pointer file exists but is not a valid pointer (truncated, edited, not JSON).
        """
        try:
            raw = self.pointer_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ArtifactError(f"cannot read pointer {self.pointer_path}: {error}") from error
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ArtifactError(f"corrupted pointer {self.pointer_path}: not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise ArtifactError(f"corrupted pointer {self.pointer_path}: expected a JSON object")
        version, previous = data.get("version"), data.get("previous")
        if not isinstance(version, str) or not VERSION_PATTERN.match(version):
            raise ArtifactError(f"corrupted pointer {self.pointer_path}: bad version {version!r}")
        if previous is not None and (not isinstance(previous, str) or not VERSION_PATTERN.match(previous)):
            raise ArtifactError(f"corrupted pointer {self.pointer_path}: bad previous {previous!r}")
        promoted_at = data.get("promoted_at")
        return Pointer(version, previous, promoted_at if isinstance(promoted_at, str) else None)

    def current_version(self) -> str | None:
        pointer = self.read_pointer()
        return pointer.version if pointer else None

    def previous_version(self) -> str | None:
        pointer = self.read_pointer()
        return pointer.previous if pointer else None

    def _write_pointer(self, pointer: Pointer) -> None:
        self.root.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        temp = self.root / f"{TEMP_PREFIX}{POINTER_NAME}-{uuid.uuid4().hex}"
        payload = json.dumps(pointer.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
        try:
            with temp.open("wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.pointer_path)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(self.root)

    def promote(self, version: str) -> Pointer:
        """Verify ``version`` and make it current; the old current becomes ``previous``.

        Raises
        ------
        ArtifactError
            The version does not verify (nothing changes).
        """
        self.verify(version)
        with self._pointer_lock():
            try:
                old = self.read_pointer()
            except ArtifactError:
                log.warning("replacing a corrupted pointer while promoting %s", version)
                old = None
            if old is not None and old.version == version:
                return old
            pointer = Pointer(version, old.version if old else None, _now_iso())
            self._write_pointer(pointer)
        log.info("promoted model %s (previous %s)", version, pointer.previous)
        return pointer

    def rollback(self) -> Pointer:
        """Make the previous version current again; the rolled-back version becomes ``previous``.

        A second rollback therefore undoes the first.

        Raises
        ------
        ArtifactError
            No previous version, or it does not verify (nothing changes).
        """
        with self._pointer_lock():
            old = self.read_pointer()
            if old is None or old.previous is None:
                raise ArtifactError("no previous version to roll back to")
            self.verify(old.previous)
            pointer = Pointer(old.previous, old.version, _now_iso())
            self._write_pointer(pointer)
        log.info("rolled back from %s to %s", old.version, pointer.version)
        return pointer

    # ------------------------------------------------------------------ versions
    def versions(self) -> list[str]:
        """Complete versions, oldest first (names sort by creation time)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if VERSION_PATTERN.match(p.name) and p.is_dir() and not p.is_symlink()
        )

    def manifest(self, version: str) -> dict[str, Any]:
        """The parsed manifest of ``version`` (not verified; see :meth:`verify`)."""
        path = self.version_dir(version) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ArtifactError(f"model {version}: {MANIFEST_NAME} is missing") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ArtifactError(f"model {version}: {MANIFEST_NAME} is unreadable ({error})") from None
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ArtifactError(f"model {version}: {MANIFEST_NAME} has no 'files' table")
        return data

    def verify(self, version: str) -> dict[str, Any]:
        """Check ``version`` completely and return its manifest.

        The manifest must list exactly the files present, every sha256 must match, the version name must
        match the files' content hash, lightfm/scikit-learn must have the same major.minor as now
        (other library differences are logged as warnings), and the artifact format must be the one this
        code reads (``Matcher.ARTIFACT_FORMAT``).

        Raises
        ------
        ArtifactError
            With a message naming the version and the first problem found.
        """
        directory = self.version_dir(version)
        if directory.is_symlink() or not directory.is_dir():
            raise ArtifactError(f"model {version}: no such version in {self.root}")
        manifest = self.manifest(version)
        if manifest.get("version") != version:
            raise ArtifactError(f"model {version}: manifest names version {manifest.get('version')!r}")
        listed: dict[str, str] = manifest["files"]
        present = {}
        for path in directory.rglob("*"):
            relative = path.relative_to(directory).as_posix()
            if path.is_symlink():
                raise ArtifactError(f"model {version}: {relative} is a symlink")
            if path.is_file() and relative != MANIFEST_NAME:
                present[relative] = path
        missing = sorted(set(listed) - set(present))
        if missing:
            raise ArtifactError(f"model {version}: file {missing[0]} is missing")
        extra = sorted(set(present) - set(listed))
        if extra:
            raise ArtifactError(f"model {version}: file {extra[0]} is not in the manifest")
        for name in sorted(listed):
            actual = sha256_file(present[name])
            if actual != listed[name]:
                raise ArtifactError(
                    f"model {version}: sha256 of {name} does not match the manifest "
                    "(file corrupt, truncated or edited)"
                )
        if not version.endswith("-" + content_hash(listed)[:8]):
            raise ArtifactError(f"model {version}: manifest file hashes do not match the version name")
        self._check_libraries(version, manifest.get("libraries") or {})
        if manifest.get("model_format") != model_format():
            raise ArtifactError(
                f"model {version}: artifact format {manifest.get('model_format')}, this talentmatch reads "
                f"format {model_format()}; retrain (talentmatch train)"
            )
        return manifest

    @staticmethod
    def _check_libraries(version: str, recorded: Mapping[str, str]) -> None:
        now = library_versions()
        for name in STRICT_LIBRARIES:
            then = recorded.get(name)
            if then is None or _major_minor(then) != _major_minor(now[name]):
                raise ArtifactError(
                    f"model {version}: trained with {name} {then}, this service runs {now[name]}; "
                    "retrain with the installed libraries"
                )
        for name, then in sorted(recorded.items()):
            if name not in STRICT_LIBRARIES and now.get(name) != then:
                log.warning("model %s: trained with %s %s, running %s", version, name, then, now.get(name))

    def load(self, version: str | None = None) -> LoadedModel:
        """Verify and load ``version`` (default: the current one).

        Raises
        ------
        ArtifactError
            No current version, or the version fails verification or loading. Callers log it
            (the service holder once per refused version, so a poll does not repeat it every time).
        """
        if version is None:
            version = self.current_version()
            if version is None:
                raise ArtifactError(f"no current model in {self.root}")
        manifest = self.verify(version)
        try:
            matcher = self._loader(self.version_dir(version))
        except Exception as error:  # noqa: BLE001 - any loading failure means a bad artifact
            raise ArtifactError(f"model {version}: loading failed: {error!r}") from error
        return LoadedModel(version=version, matcher=matcher, manifest=manifest)

    # ------------------------------------------------------------------ writing
    def write_version(
        self,
        save: Callable[[Path], object],
        manifest: Mapping[str, Any],
        *,
        created_at: datetime | None = None,
    ) -> str:
        """Write a new version atomically and return its name.

        Parameters
        ----------
        save
            Writes the model files into the directory it is given (e.g. ``matcher.save``).
        manifest
            Everything the manifest says besides ``version``, ``created_at``, ``content_hash`` and
            ``files``, which are filled in here.
        created_at
            UTC time for the version name; now by default.
        """
        created_at = (created_at or datetime.now(UTC)).astimezone(UTC)
        self.root.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        temp = self.root / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        temp.mkdir(mode=PRIVATE_DIR_MODE)
        try:
            save(temp)
            files = {}
            for path in sorted(temp.rglob("*")):
                if path.is_file():
                    relative = path.relative_to(temp).as_posix()
                    if relative == MANIFEST_NAME:
                        raise ArtifactError(f"the model wrote its own {MANIFEST_NAME}")
                    files[relative] = sha256_file(path)
            if not files:
                raise ArtifactError("the model wrote no files")
            digest = content_hash(files)
            version = f"{created_at.strftime('%Y%m%dT%H%M%SZ')}-{digest[:8]}"
            full = {
                "format": MANIFEST_FORMAT,
                "model_format": model_format(),
                "version": version,
                "created_at": created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                **manifest,
                "content_hash": digest,
                "files": files,
            }
            (temp / MANIFEST_NAME).write_text(
                json.dumps(full, indent=2, sort_keys=True, default=_json_default) + "\n", encoding="utf-8"
            )
            _fsync_tree(temp)
            target = self.version_dir(version)
            if target.exists():
                raise ArtifactError(f"version {version} already exists")
            os.rename(temp, target)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        log.info("wrote model %s", version)
        return version

    # ------------------------------------------------------------------ housekeeping
    def clean_temp(self) -> list[Path]:
        """Remove what an interrupted train or deletion left behind. Call only under the train lock."""
        if not self.root.is_dir():
            return []
        removed = []
        for path in self.root.iterdir():
            if path.name.startswith(TEMP_PREFIX):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        if removed:
            log.info("removed %d leftover temporary item(s) in %s", len(removed), self.root)
        return removed

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions, never the current or the previous one."""
        try:
            pointer = self.read_pointer()
        except ArtifactError:
            log.warning("pointer unreadable: not deleting any version")
            return []
        protected = {pointer.version, pointer.previous} if pointer else set()
        versions = self.versions()
        newest = set(versions[-keep:]) if keep > 0 else set()
        deleted = []
        for version in versions:
            if version in newest or version in protected:
                continue
            # Rename first so the version disappears at once; a crash leaves a .tmp-* to clean up.
            trash = self.root / f"{TEMP_PREFIX}deleted-{version}"
            os.rename(self.version_dir(version), trash)
            shutil.rmtree(trash, ignore_errors=True)
            deleted.append(version)
        if deleted:
            log.info("deleted old model versions: %s", ", ".join(deleted))
        return deleted


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    """numpy scalars, timestamps and paths in manifest values."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
