"""The artifact's fit on all the data, in a second process while the holdout fit and evaluation run here.

A gated retrain fits the matcher twice: on the events before the holdout cut (to evaluate it) and on every
event (the artifact that serves). The two fits are independent, and each runs on one thread (LightFM's
parallel epochs are not reproducible), so on a machine with two cores they can run at once: the retrain's
wall time becomes the longer of the two instead of their sum (the large demo world: ~13 -> ~8 min).

The child process is spawned, not forked (a fork after OpenMP or BLAS threads have run can hang). It reads
the data from a pickle in a ``.tmp-*`` directory of the registry and writes the fitted matcher back there;
:meth:`training.registry.Registry.clean_temp` removes what an interrupted run leaves. The fit is the same
seeded, single-threaded code either way, so the artifact is the same model as a sequential run's.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.registry import TEMP_PREFIX

if TYPE_CHECKING:
    from models.data import MarketData
    from models.matcher import Matcher, MatcherConfig

log = logging.getLogger(__name__)

__all__ = ["BackgroundFit", "FitFailed"]

_DATA, _RESULT = "data.pickle", "result.pickle"
Then = Callable[["Matcher", "MarketData"], Any]


class FitFailed(RuntimeError):
    """The child process died without a result (killed, out of memory)."""


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux), so that a retrain killed with -9
    leaves no fit running; elsewhere the child finishes and its files go with the next ``clean_temp``."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request
        os._exit(1)


def _fit(config: MatcherConfig, folder: str, parent: int, then: Then | None) -> None:
    """The child: fit on the pickled data, then ``then(matcher, data)``; pickle ``("ok", matcher,
    seconds, then's result)`` or ``("error", exc)``."""
    _die_with(parent)
    from models.matcher import Matcher

    path = Path(folder)
    try:
        with open(path / _DATA, "rb") as handle:
            data = pickle.load(handle)
        tick = time.perf_counter()
        matcher = Matcher(config).fit(data)
        seconds = {"fit": time.perf_counter() - tick}
        tick = time.perf_counter()
        extra = None if then is None else then(matcher, data)
        seconds["then"] = time.perf_counter() - tick
        result: tuple[Any, ...] = ("ok", matcher, seconds, extra)
    except Exception as error:  # handed to the parent, which raises it as its own fit would
        result = ("error", error)
    with open(path / f"{_RESULT}.part", "wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    (path / f"{_RESULT}.part").rename(path / _RESULT)


class BackgroundFit:
    """``Matcher(config).fit(data)`` started now in a spawned process; :meth:`result` waits for it.

    ``then`` (picklable: a module-level function or a ``functools.partial`` of one) runs in the child on
    the fitted matcher and the data, e.g. the model card's figures, which need nothing of the parent's.
    Use as a context manager: leaving it early (an error in the caller) stops the child and removes its
    files.
    """

    def __init__(
        self, config: MatcherConfig, data: MarketData, *, workdir: Path, then: Then | None = None
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}fit-", dir=workdir))
        with open(self._folder / _DATA, "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._process = multiprocessing.get_context("spawn").Process(
            target=_fit,
            args=(config, str(self._folder), os.getpid(), then),
            name="talentmatch-final-fit",
            daemon=True,
        )
        self._process.start()
        log.info("fitting on all the data in process %s meanwhile", self._process.pid)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def result(self) -> tuple[Matcher, dict[str, float], Any]:
        """The fitted matcher, the seconds of the fit and of ``then`` (``{"fit", "then"}``) and what
        ``then`` returned; raises what the child raised, or :class:`FitFailed`."""
        self._process.join()
        try:
            with open(self._folder / _RESULT, "rb") as handle:
                result = pickle.load(handle)
        except FileNotFoundError:
            raise FitFailed(
                f"the fit on all the data stopped without a result (exit code {self._process.exitcode})"
            ) from None
        finally:
            self.close()
        if result[0] == "error":
            raise result[1]
        return result[1], result[2], result[3]

    def close(self) -> None:
        """Stop the child if it still runs and remove its files."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> BackgroundFit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
