"""Programme skill gaps on a hand-built market."""

from __future__ import annotations

import pandas as pd
import pytest

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from models.skill_gaps import cohort_education, skill_gaps, target_segments


def _frame(entity: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ENTITY_COLUMNS[entity]))


def _vacancy(vid, enterprise, required, *, min_education="associate", status="open", closes_at=None):
    return {
        C.vacancy: vid,
        C.enterprise: enterprise,
        C.title: vid,
        C.role: "technician",
        C.required_skills: required,
        C.preferred_skills: [],
        C.min_education: min_education,
        C.district: "越城区",
        C.headcount: 1,
        C.salary_min: float("nan"),
        C.salary_max: float("nan"),
        C.posted_at: pd.Timestamp("2025-01-01"),
        C.closes_at: pd.Timestamp(closes_at) if closes_at else pd.NaT,
        C.status: status,
        C.description: "",
    }


def _graduate(gid, program, skills, education="associate"):
    return {
        C.graduate: gid,
        C.program: program,
        C.education: education,
        C.major: "",
        C.skills: skills,
        C.preferred_districts: [],
        C.available_from: pd.NaT,
        C.status: "seeking",
    }


@pytest.fixture
def market() -> MarketData:
    skills = [
        {C.skill: s, C.name_zh: f"{s}中", C.name_en: s.upper(), C.category: "x", C.aliases: []}
        for s in ("wb", "fc", "spc", "litho", "etch", "verilog")
    ]
    enterprises = [
        {C.enterprise: "PK", C.name: "Pack", C.segment: "packaging", C.district: "越城区"},
        {C.enterprise: "FD", C.name: "Fab", C.segment: "foundry", C.district: "柯桥区"},
    ]
    programs = [
        {
            C.program: "P-ORDER",
            C.school: "S1",
            C.name: "封装订单班",
            C.kind: "order_class",
            C.sponsor: "PK",
            C.cohort_year: 2025,
            C.skills: ["wb"],
        },
        {
            C.program: "P-DEG",
            C.school: "S1",
            C.name: "微电子",
            C.kind: "degree",
            C.sponsor: None,
            C.cohort_year: 2025,
            C.skills: ["litho", "etch"],
        },
        {
            C.program: "T-SPC",
            C.school: "S2",
            C.name: "SPC短训",
            C.kind: "training",
            C.sponsor: None,
            C.cohort_year: 2025,
            C.skills: ["spc", "fc"],
        },
        {
            C.program: "T-FC",
            C.school: "S2",
            C.name: "倒装焊培训",
            C.kind: "training",
            C.sponsor: None,
            C.cohort_year: 2025,
            C.skills: ["fc"],
        },
    ]
    vacancies = [
        _vacancy("V1", "PK", ["wb", "fc"]),
        _vacancy("V2", "PK", ["wb", "spc"]),
        _vacancy("V3", "PK", ["fc", "spc"]),
        _vacancy("V4", "PK", ["fc"], min_education="master"),  # above the cohort's education
        _vacancy("V5", "PK", ["verilog"], status="closed"),  # not open
        _vacancy("V6", "PK", ["verilog"], closes_at="2025-02-01"),  # past closes_at at `now`
        _vacancy("V7", "FD", ["litho", "etch", "spc"]),  # another segment
        _vacancy("V8", "FD", ["litho"]),
    ]
    graduates = [
        _graduate("G1", "P-ORDER", ["wb", "fc"]),
        _graduate("G2", "P-ORDER", ["wb"]),
        _graduate("G3", "P-ORDER", ["wb"], education="bachelor"),
        _graduate("G4", "P-ORDER", ["wb", "spc"], education="secondary"),
        _graduate("G5", "P-DEG", ["litho"], education="bachelor"),
    ]
    return MarketData(
        skills=_frame("skills", skills),
        enterprises=_frame("enterprises", enterprises),
        schools=_frame("schools", []),
        programs=_frame("programs", programs),
        graduates=_frame("graduates", graduates),
        vacancies=_frame("vacancies", vacancies),
        interactions=_frame("interactions", []),
    )


def test_skill_gaps_of_an_order_class(market):
    report = skill_gaps(market, "P-ORDER", now=pd.Timestamp("2025-03-01"))
    assert report.segments == ["packaging"] and report.segment_source == "sponsor"
    assert report.education == "associate"  # lower median of secondary, associate, associate, bachelor
    assert report.vacancies == 3 and report.cohort_size == 4  # V1, V2, V3
    gaps = {g.skill_id: g for g in report.gaps}
    # fc: 2 of 3 vacancies, 1 of 4 graduates; spc: 2 of 3, 1 of 4; wb: 2/3 vs 4/4 -> no gap.
    assert set(gaps) == {"fc", "spc"}
    assert gaps["fc"].vacancy_share == pytest.approx(2 / 3, abs=1e-6)
    assert gaps["fc"].cohort_share == pytest.approx(0.25)
    assert gaps["fc"].gap == pytest.approx(2 / 3 - 0.25, abs=1e-6)
    assert gaps["fc"].taught_by == ["T-FC", "T-SPC"]
    assert gaps["spc"].taught_by == ["T-SPC"]
    assert not gaps["fc"].in_curriculum
    assert gaps["fc"].name_en == "FC"
    assert [g.skill_id for g in report.gaps] == ["fc", "spc"]  # equal gaps: skill id order


def test_without_now_the_closing_date_is_ignored(market):
    report = skill_gaps(market, "P-ORDER")
    assert report.vacancies == 4
    assert report.gaps[0].skill_id == "fc"
    assert {g.skill_id for g in report.gaps} == {"fc", "spc", "verilog"}


def test_degree_programme_targets_segments_by_curriculum_then_history(market):
    segments, source = target_segments(market, "P-DEG")
    assert (segments, source) == (["foundry"], "curriculum")
    report = skill_gaps(market, "P-DEG")
    assert report.education == "bachelor"
    assert [g.skill_id for g in report.gaps] == ["etch", "spc"]
    assert report.gaps[0].in_curriculum  # taught, yet the cohort does not hold it
    # Graduates applying to packaging make it the target segment.
    market.interactions = _frame(
        "interactions",
        [
            {C.graduate: "G5", C.vacancy: v, C.event: "applied", C.occurred_at: pd.Timestamp("2025-01-02")}
            for v in ("V1", "V2", "V3", "V4", "V5")
        ],
    )
    assert target_segments(market, "P-DEG") == (["packaging"], "history")
    assert skill_gaps(market, "P-DEG", segments=["foundry"]).segment_source == "given"


def test_cohort_education_and_unknown_programme(market):
    assert cohort_education([]) is None
    assert cohort_education(["master", "secondary"]) == "secondary"
    with pytest.raises(ValueError, match="unknown programme"):
        skill_gaps(market, "NOPE")
