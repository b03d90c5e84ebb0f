"""Small literal talent markets for tests, and helpers to write them as bundles.

``tiny_market()`` is a complete, valid market: 8 skills, 2 enterprises, 2 schools, an order-based
class sponsored by the first enterprise, a training programme, a degree track, 12 graduates,
6 vacancies and 30 interactions. Other test modules reuse it; change it only by adding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.bundle import write_bundle
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData

SKILLS = [
    ("wire_bonding", "引线键合", "wire bonding", "packaging", ["WB", "bonding"]),
    ("flip_chip", "倒装焊", "flip chip", "packaging", ["FC"]),
    ("spc", "统计过程控制", "statistical process control", "quality", ["SPC"]),
    ("lithography", "光刻", "lithography", "process", []),
    ("etching", "刻蚀", "etching", "process", ["etch"]),
    ("ate_test", "自动测试设备", "ATE testing", "test", ["ATE"]),
    ("verilog", "Verilog", "Verilog", "design", []),
    ("equipment_maintenance", "设备维护", "equipment maintenance", "equipment", []),
]
ENTERPRISES = [
    ("E1", "绍兴中芯集成电路制造", "foundry", "越城区"),
    ("E2", "长电科技(绍兴)", "packaging", "滨海新区"),
]
SCHOOLS = [
    ("S1", "绍兴职业技术学院", "vocational_college", "柯桥区"),
    ("S2", "绍兴文理学院", "university", "越城区"),
]
PROGRAMS = [
    ("P1", "S1", "中芯订单班 2026", "order_class", "E1", 2026, ["lithography", "etching", "spc"]),
    ("P2", "S1", "封装测试高级研修班", "training", None, 2026, ["wire_bonding", "flip_chip", "ate_test"]),
    ("P3", "S2", "微电子科学与工程", "degree", None, 2025, ["verilog", "lithography"]),
]
GRADUATES = [
    ("G01", "P1", "associate", "微电子技术", ["lithography", "etching"], ["越城区"], "2026-06-30", "seeking"),
    (
        "G02",
        "P1",
        "associate",
        "微电子技术",
        ["lithography", "spc"],
        ["越城区", "柯桥区"],
        "2026-06-30",
        "seeking",
    ),
    ("G03", "P1", "associate", "微电子技术", ["etching", "spc"], [], "2026-06-30", "seeking"),
    ("G04", "P1", "associate", "微电子技术", ["lithography"], ["滨海新区"], "2026-06-30", "placed"),
    (
        "G05",
        "P2",
        "secondary",
        "电子技术",
        ["wire_bonding", "flip_chip"],
        ["滨海新区"],
        "2026-03-01",
        "seeking",
    ),
    ("G06", "P2", "associate", "电子技术", ["wire_bonding", "ate_test"], ["滨海新区"], None, "seeking"),
    ("G07", "P2", "associate", "", ["flip_chip", "ate_test", "spc"], ["上虞区"], "2026-03-01", "seeking"),
    ("G08", "P2", "secondary", "机电一体化", ["equipment_maintenance"], [], "2026-03-01", "withdrawn"),
    ("G09", "P3", "bachelor", "微电子科学与工程", ["verilog"], ["越城区"], "2025-07-01", "seeking"),
    ("G10", "P3", "bachelor", "微电子科学与工程", ["verilog", "lithography"], [], "2025-07-01", "seeking"),
    ("G11", "P3", "master", "集成电路设计", ["verilog", "ate_test"], ["柯桥区"], "2025-07-01", "seeking"),
    (
        "G12",
        "P3",
        "bachelor",
        "微电子科学与工程",
        ["lithography", "etching"],
        ["越城区"],
        "2025-07-01",
        "placed",
    ),
]
VACANCIES = [
    # id, enterprise, title, role, required, preferred, min_edu, district, headcount, smin, smax,
    # posted, closes, status, description
    (
        "V1",
        "E1",
        "光刻工艺工程师",
        "process_engineer",
        ["lithography"],
        ["spc"],
        "associate",
        "越城区",
        2,
        7000,
        10000,
        "2026-01-05T09:00:00",
        "2026-03-31T00:00:00",
        "open",
        "负责光刻工艺，熟悉SPC",
    ),
    (
        "V2",
        "E1",
        "刻蚀设备技术员",
        "technician",
        ["etching"],
        ["equipment_maintenance"],
        "associate",
        "越城区",
        3,
        6000,
        8000,
        "2026-01-10T10:30:00",
        None,
        "open",
        "=SUM(A1:A2) 不是公式",
    ),
    (
        "V3",
        "E2",
        "封装工艺技术员",
        "technician",
        ["wire_bonding"],
        ["flip_chip"],
        "secondary",
        "滨海新区",
        4,
        5500,
        7500,
        "2026-01-12T08:00:00",
        None,
        "open",
        "引线键合和倒装焊工艺",
    ),
    (
        "V4",
        "E2",
        "测试工程师",
        "test_engineer",
        ["ate_test"],
        [],
        "associate",
        "滨海新区",
        1,
        None,
        None,
        "2026-01-20T14:15:00",
        "2026-02-28T00:00:00",
        "closed",
        "",
    ),
    (
        "V5",
        "E2",
        "数字IC设计工程师",
        "design_engineer",
        ["verilog"],
        ["ate_test"],
        "bachelor",
        "越城区",
        1,
        12000,
        20000,
        "2026-02-01T09:00:00",
        None,
        "open",
        "+Verilog, -SystemVerilog",
    ),
    (
        "V6",
        "E1",
        "质量工程师",
        "quality_engineer",
        ["spc"],
        [],
        "associate",
        "越城区",
        1,
        8000,
        8000,
        "2026-02-03T09:00:00",
        None,
        "filled",
        "质量体系",
    ),
]
INTERACTIONS = [
    ("G01", "V1", "applied", "2026-01-06T10:00:00"),
    ("G01", "V1", "shortlisted", "2026-01-08T10:00:00"),
    ("G01", "V1", "interviewed", "2026-01-12T10:00:00"),
    ("G01", "V1", "offered", "2026-01-15T10:00:00"),
    ("G02", "V1", "applied", "2026-01-06T11:00:00"),
    ("G02", "V1", "rejected", "2026-01-09T11:00:00"),
    ("G03", "V2", "viewed", "2026-01-11T09:00:00"),
    ("G03", "V2", "applied", "2026-01-11T09:30:00"),
    ("G04", "V6", "applied", "2026-02-04T09:00:00"),
    ("G04", "V6", "interviewed", "2026-02-06T09:00:00"),
    ("G04", "V6", "hired", "2026-02-10T09:00:00"),
    ("G05", "V3", "applied", "2026-01-13T08:00:00"),
    ("G05", "V3", "shortlisted", "2026-01-14T08:00:00"),
    ("G06", "V3", "applied", "2026-01-13T09:00:00"),
    ("G06", "V4", "applied", "2026-01-21T09:00:00"),
    ("G06", "V4", "interviewed", "2026-01-25T09:00:00"),
    ("G06", "V4", "declined", "2026-01-28T09:00:00"),
    ("G07", "V3", "viewed", "2026-01-15T12:00:00"),
    ("G07", "V4", "applied", "2026-01-22T12:00:00"),
    ("G07", "V4", "offered", "2026-01-30T12:00:00"),
    ("G08", "V2", "viewed", "2026-01-12T16:00:00"),
    ("G09", "V5", "applied", "2026-02-02T10:00:00"),
    ("G09", "V5", "shortlisted", "2026-02-04T10:00:00"),
    ("G10", "V5", "applied", "2026-02-02T11:00:00"),
    ("G10", "V1", "viewed", "2026-01-07T11:00:00"),
    ("G11", "V5", "applied", "2026-02-03T09:00:00"),
    ("G11", "V5", "interviewed", "2026-02-07T09:00:00"),
    ("G12", "V1", "applied", "2026-01-07T15:00:00"),
    ("G12", "V1", "hired", "2026-01-20T15:00:00"),
    ("G12", "V2", "viewed", "2026-01-10T15:00:00"),
]


def _frame(entity: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([list(row) for row in rows], columns=list(ENTITY_COLUMNS[entity]), dtype=object)


def tiny_market() -> MarketData:
    """A small, valid talent market with the MarketData dtypes."""
    skills = _frame("skills", SKILLS)
    enterprises = _frame("enterprises", ENTERPRISES)
    schools = _frame("schools", SCHOOLS)
    programs = _frame("programs", PROGRAMS)
    programs[C.cohort_year] = programs[C.cohort_year].astype("int64")
    graduates = _frame("graduates", GRADUATES)
    graduates[C.available_from] = pd.to_datetime(graduates[C.available_from]).astype("datetime64[us]")
    vacancies = _frame("vacancies", VACANCIES)
    vacancies[C.headcount] = vacancies[C.headcount].astype("int64")
    for column in (C.salary_min, C.salary_max):
        vacancies[column] = (
            vacancies[column].map(lambda v: np.nan if v is None else float(v)).astype("float64")
        )
    for column in (C.posted_at, C.closes_at):
        vacancies[column] = pd.to_datetime(vacancies[column]).astype("datetime64[us]")
    interactions = _frame("interactions", INTERACTIONS)
    interactions[C.occurred_at] = pd.to_datetime(interactions[C.occurred_at]).astype("datetime64[us]")
    return MarketData(
        skills=skills,
        enterprises=enterprises,
        schools=schools,
        programs=programs,
        graduates=graduates,
        vacancies=vacancies,
        interactions=interactions,
    )


def write_tiny_bundle(directory: Path) -> Path:
    """Write ``tiny_market()`` as a bundle into ``directory`` and return it."""
    write_bundle(tiny_market(), directory)
    return directory
