"""A programme's skill gaps: skills the open vacancies suiting it ask for that few of its graduates hold.

The one place the API and the skill gaps page ask. No personal data is shown (shares only), so it is not
audited. Answers are remembered per programme, limit, store data version and hour (``closes_at`` decides
what is open), so repeated views do not re-read the market.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

from models.skill_gaps import SkillGapReport, skill_gaps
from service.store.programs import program_market, program_names
from service.store.session import data_version
from service.store.tables import Program
from service.usecases.context import Context
from service.usecases.programs import find_program

_CACHE_SIZE = 64
_cache: OrderedDict[tuple[str, int, int, pd.Timestamp], SkillGapReport] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class SkillGaps:
    program: Program
    report: SkillGapReport
    program_names: dict[str, str]  # names of the training programmes that teach a gap


def _report(ctx: Context, program_id: str, limit: int) -> SkillGapReport:
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    key = (program_id, limit, data_version(ctx.session), now.floor("h"))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    report = skill_gaps(
        program_market(session=ctx.session, program_id=program_id), program_id, now=now, limit=limit
    )
    with _lock:
        _cache[key] = report
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return report


def program_skill_gaps(ctx: Context, program_id: str, *, limit: int = 20) -> SkillGaps:
    """The skill gaps of one of the caller's school's programmes, with who teaches each."""
    program = find_program(ctx, program_id)
    report = _report(ctx, program.program_id, limit)
    teaching = sorted({p for gap in report.gaps for p in gap.taught_by})
    names = program_names(session=ctx.session, program_ids=teaching)
    return SkillGaps(program, report, names)
