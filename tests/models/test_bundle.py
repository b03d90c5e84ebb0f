"""read_bundle / write_bundle / parse_entity_csv: the CSV contract."""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from models.bundle import (
    BUNDLE_FILES,
    BundleError,
    KnownIds,
    Problem,
    neutralise,
    parse_entity_csv,
    read_bundle,
    write_bundle,
)
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS
from tests.bundles import tiny_market, write_tiny_bundle


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(BundleError) as caught:
        read_bundle(directory)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_tiny_bundle(tmp_path / "bundle")


def test_reads_what_was_written(bundle: Path) -> None:
    data = read_bundle(bundle)
    expected = tiny_market()
    for entity in ENTITY_COLUMNS:
        got, want = getattr(data, entity), getattr(expected, entity)
        assert list(got.columns) == list(ENTITY_COLUMNS[entity])
        key = list(ENTITY_COLUMNS[entity]) if entity == "interactions" else [got.columns[0]]
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True).astype(object),
            want.sort_values(key).reset_index(drop=True).astype(object),
            check_dtype=False,
        )
    assert data.vacancies[C.headcount].dtype == "int64"
    assert data.vacancies[C.salary_min].dtype == "float64"
    assert data.programs[C.cohort_year].dtype == "int64"
    assert data.programs.set_index(C.program).loc["P2", C.sponsor] is None


def test_write_read_write_is_byte_identical(bundle: Path, tmp_path: Path) -> None:
    write_bundle(read_bundle(bundle), tmp_path / "again")
    for name in BUNDLE_FILES.values():
        assert filecmp.cmp(bundle / name, tmp_path / "again" / name, shallow=False), name


def test_formula_cells_are_quoted_on_export_and_unquoted_on_import(bundle: Path) -> None:
    text = (bundle / "vacancies.csv").read_text(encoding="utf-8")
    assert ",'=SUM(A1:A2) 不是公式" in text
    assert '"\'+Verilog, -SystemVerilog"' in text
    descriptions = read_bundle(bundle).vacancies.set_index(C.vacancy)[C.description]
    assert descriptions["V2"] == "=SUM(A1:A2) 不是公式"
    assert descriptions["V5"] == "+Verilog, -SystemVerilog"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("-x", "'-x"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("'=x", "''=x"),
        ("ok", "ok"),
        ("'a", "'a"),
    ],
)
def test_neutralise(text: str, written: str, tmp_path: Path) -> None:
    assert neutralise(text) == written
    data = tiny_market()
    data.enterprises.loc[0, C.name] = text
    write_bundle(data, tmp_path)
    assert read_bundle(tmp_path).enterprises.set_index(C.enterprise).loc["E1", C.name] == text


def test_bom_extra_files_and_ground_truth_are_fine(bundle: Path) -> None:
    path = bundle / "skills.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    (bundle / "ground_truth").mkdir()
    (bundle / "ground_truth" / "utility.csv").write_text("nonsense\n")
    (bundle / "README.txt").write_text("hello")
    assert len(read_bundle(bundle).skills) == 8


def test_column_order_is_free_and_aliases_optional(bundle: Path) -> None:
    frame = pd.read_csv(bundle / "skills.csv", dtype=str, keep_default_na=False)
    frame[[C.category, C.name_en, C.skill, C.name_zh]].to_csv(bundle / "skills.csv", index=False)
    skills = read_bundle(bundle).skills.set_index(C.skill)
    assert skills.loc["spc", C.name_en] == "statistical process control"
    assert skills.loc["spc", C.aliases] == []


def test_spaces_around_ids_and_list_entries_are_trimmed(bundle: Path) -> None:
    edit(
        bundle / "graduates.csv",
        "G01,P1,associate,微电子技术,lithography;etching",
        " G01 ,P1 ,associate,微电子技术, lithography ; etching;",
    )
    graduate = read_bundle(bundle).graduates.set_index(C.graduate).loc["G01"]
    assert graduate[C.program] == "P1"
    assert graduate[C.skills] == ["lithography", "etching"]


# Each case: (file, mutation, expected problem prefix).
Mutation = Callable[[Path], None]
BAD: dict[str, tuple[str, Mutation, str]] = {
    "bad enum": (
        "enterprises.csv",
        lambda p: edit(p, "foundry", "fab"),
        "enterprises.csv:2: segment: 'fab' is not one of",
    ),
    "dangling programme": (
        "graduates.csv",
        lambda p: edit(p, "G03,P1", "G03,P9"),
        "graduates.csv:4: program_id: unknown programme 'P9'",
    ),
    "dangling skill": (
        "vacancies.csv",
        lambda p: edit(
            p, "V3,E2,封装工艺技术员,technician,wire_bonding", "V3,E2,封装工艺技术员,technician,soldering"
        ),
        "vacancies.csv:4: required_skills: unknown skill 'soldering'",
    ),
    "dangling sponsor": (
        "programs.csv",
        lambda p: edit(p, "order_class,E1", "order_class,E7"),
        "programs.csv:2: sponsor_enterprise_id: unknown enterprise 'E7'",
    ),
    "dangling vacancy of interaction": (
        "interactions.csv",
        lambda p: edit(p, "G02,V1,rejected", "G02,V9,rejected"),
        "interactions.csv:7: vacancy_id: unknown vacancy 'V9'",
    ),
    "duplicate id": (
        "schools.csv",
        lambda p: edit(p, "S2,", "S1,"),
        "schools.csv:3: school_id: duplicate id 'S1' (first on line 2)",
    ),
    "bad date": (
        "vacancies.csv",
        lambda p: edit(p, "2026-01-10T10:30:00", "2026-13-10"),
        "vacancies.csv:3: posted_at: '2026-13-10' is not a valid date",
    ),
    "date with time where a day is expected": (
        "graduates.csv",
        lambda p: edit(p, "2026-03-01,seeking", "2026-03-01T08:00:00,seeking"),
        "graduates.csv:6: available_from: must be a day without a time",
    ),
    "negative headcount": (
        "vacancies.csv",
        lambda p: edit(p, ",越城区,3,", ",越城区,-3,"),
        "vacancies.csv:3: headcount: must be at least 1 (got -3)",
    ),
    "fractional headcount": (
        "vacancies.csv",
        lambda p: edit(p, ",越城区,3,", ",越城区,2.5,"),
        "vacancies.csv:3: headcount: '2.5' is not a whole number",
    ),
    "salary_min above salary_max": (
        "vacancies.csv",
        lambda p: edit(p, "6000,8000", "9000,8000"),
        "vacancies.csv:3: salary_min: salary_min 9000 is above salary_max 8000",
    ),
    "negative salary": (
        "vacancies.csv",
        lambda p: edit(p, "6000,8000", "-6000,8000"),
        "vacancies.csv:3: salary_min: must not be negative",
    ),
    "unknown column": (
        "skills.csv",
        lambda p: edit(p, "category,aliases", "category,aliases,phone"),
        "skills.csv:1: phone: unknown column",
    ),
    "missing column": (
        "schools.csv",
        lambda p: edit(p, "school_id,name,kind,district\n", "school_id,name,kind\n"),
        "schools.csv:1: district: missing column",
    ),
    "non-UTF-8 file": (
        "schools.csv",
        lambda p: p.write_bytes(p.read_text(encoding="utf-8").encode("gbk")),
        "schools.csv:2: -: not UTF-8 text",
    ),
    "empty file": ("programs.csv", lambda p: p.write_bytes(b""), "programs.csv:1: -: the file is empty"),
    "missing file": ("programs.csv", lambda p: p.unlink(), "programs.csv:0: -: the file is missing"),
    "sponsor missing for an order class": (
        "programs.csv",
        lambda p: edit(p, "order_class,E1", "order_class,"),
        "programs.csv:2: sponsor_enterprise_id: an order_class needs its sponsor",
    ),
    "sponsor on a training programme": (
        "programs.csv",
        lambda p: edit(p, "training,,", "training,E2,"),
        "programs.csv:3: sponsor_enterprise_id: only an order_class has a sponsor",
    ),
    "required cell empty": (
        "vacancies.csv",
        lambda p: edit(p, "V4,E2,测试工程师", "V4,E2,"),
        "vacancies.csv:5: title: required; the cell is empty",
    ),
    "skill both required and preferred": (
        "vacancies.csv",
        lambda p: edit(p, "lithography,spc", "lithography,lithography"),
        "vacancies.csv:2: preferred_skills: lithography also listed as required",
    ),
    "skill listed twice": (
        "graduates.csv",
        lambda p: edit(p, "lithography;etching", "lithography;lithography"),
        "graduates.csv:2: skills: 'lithography' is listed twice",
    ),
    "id outside the id pattern": (
        "graduates.csv",
        lambda p: edit(p, "G03,P1", "../../etc,P1"),
        "graduates.csv:4: graduate_id: not a valid id; an id is 1-64 characters",
    ),
    "id with a bidi control": (
        "vacancies.csv",
        lambda p: edit(p, "V3,E2,", "V3\u202e,E2,"),
        "vacancies.csv:4: vacancy_id: not a valid id",
    ),
    "reference outside the id pattern": (
        "interactions.csv",
        lambda p: edit(p, "G02,V1,rejected", "G 02,V1,rejected"),
        "interactions.csv:7: graduate_id: not a valid graduate id",
    ),
    "skill reference outside the id pattern": (
        "graduates.csv",
        lambda p: edit(p, "lithography;etching", "lithography;etch/ing"),
        "graduates.csv:2: skills: not a valid skill id",
    ),
    "too many fields": (
        "interactions.csv",
        lambda p: edit(p, "2026-01-06T11:00:00", "2026-01-06T11:00:00,extra"),
        "interactions.csv:",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_reported_with_file_line_and_column(case: str, bundle: Path) -> None:
    file, mutate, expected = BAD[case]
    mutate(bundle / file)
    found = problems_of(bundle)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_of_all_files_are_collected(bundle: Path) -> None:
    edit(bundle / "enterprises.csv", "foundry", "fab")
    edit(bundle / "vacancies.csv", "6000,8000", "9000,8000")
    edit(bundle / "interactions.csv", "2026-01-06T10:00:00", "yesterday")
    found = problems_of(bundle)
    assert len(found) == 3
    assert [p.split(":")[0] for p in found] == ["enterprises.csv", "vacancies.csv", "interactions.csv"]


def test_a_broken_file_does_not_cascade_into_dangling_references(bundle: Path) -> None:
    (bundle / "graduates.csv").write_bytes(b"")
    found = problems_of(bundle)
    assert found == ["graduates.csv:1: -: the file is empty; it needs at least the header row"]


def test_missing_folder(tmp_path: Path) -> None:
    found = problems_of(tmp_path / "nowhere")
    assert found == [f"{tmp_path / 'nowhere'}:0: -: the bundle folder does not exist"]


def test_problem_format() -> None:
    assert str(Problem("a.csv", 3, "x", "bad")) == "a.csv:3: x: bad"


def test_many_problems_are_counted_beyond_the_kept_ones(bundle: Path) -> None:
    lines = ["graduate_id,vacancy_id,event,occurred_at"] + [f"G01,V1,applied,day {i}" for i in range(12_000)]
    (bundle / "interactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BundleError) as caught:
        read_bundle(bundle)
    assert caught.value.total == 12_000
    assert len(caught.value.problems) == 10_000


def test_parse_entity_csv_checks_against_known_ids(bundle: Path) -> None:
    source = (bundle / "graduates.csv").read_bytes()
    known = KnownIds(skills={"lithography", "etching", "spc"}, programs={"P1", "P2"})
    frame, problems = parse_entity_csv("graduates", source, known=known)
    messages = {str(p) for p in problems}
    assert "graduates.csv:10: program_id: unknown programme 'P3'" in messages
    assert any(m.startswith("graduates.csv:6: skills: unknown skill 'wire_bonding'") for m in messages)
    frame, problems = parse_entity_csv("graduates", bundle / "graduates.csv", known=None)
    assert problems == []
    assert len(frame) == 12
    assert frame.set_index(C.graduate).loc["G02", C.preferred_districts] == ["越城区", "柯桥区"]


def test_ids_are_checked_against_the_pattern_without_known_ids(bundle: Path) -> None:
    """An upload checked against no reference sets still refuses what can never be an id."""
    source = (bundle / "graduates.csv").read_text(encoding="utf-8")
    source = source.replace("G03,P1", "G03,P/1", 1).replace("G01,", "-G01,", 1)
    frame, problems = parse_entity_csv("graduates", source.encode("utf-8"), known=None)
    messages = [str(p) for p in problems]
    assert any(m.startswith("graduates.csv:4: program_id: not a valid programme id") for m in messages)
    assert any(m.startswith("graduates.csv:2: graduate_id: not a valid id") for m in messages)
    assert len(messages) == 2, messages
    assert all("P/1" not in m and "-G01" not in m for m in messages)


def test_parse_entity_csv_reports_encoding(tmp_path: Path) -> None:
    frame, problems = parse_entity_csv("skills", "skill_id,name_zh\nx,光刻\n".encode("gbk"), known=None)
    assert [str(p) for p in problems][0].startswith("skills.csv:2: -: not UTF-8 text")
    assert len(frame) == 0


def test_times_with_an_offset_are_stored_as_naive_utc(bundle: Path) -> None:
    edit(bundle / "interactions.csv", "2026-01-06T10:00:00", "2026-01-06T10:00:00+08:00")
    edit(bundle / "interactions.csv", "2026-01-06T11:00:00", "2026-01-06 11:00:00Z")
    times = read_bundle(bundle).interactions[C.occurred_at]
    assert times.dt.tz is None
    assert pd.Timestamp("2026-01-06T02:00:00") in set(times)
    assert pd.Timestamp("2026-01-06T11:00:00") in set(times)


@pytest.mark.parametrize("value", ["2026", "2026-05", "20260501", "2026-5-1", "01/05/2026"])
def test_partial_or_non_iso_dates_are_rejected(value: str, bundle: Path) -> None:
    edit(bundle / "interactions.csv", "2026-01-06T10:00:00", value)
    assert problems_of(bundle)[0].startswith(
        f"interactions.csv:2: occurred_at: {value!r} is not a valid date"
    )


def test_writer_matches_format_cell(tmp_path: Path) -> None:
    """The vectorised writer renders every cell as format_cell does (the reference)."""
    from models.bundle import format_cell

    data = tiny_market()
    data.vacancies.loc[0, C.posted_at] = pd.Timestamp("2026-01-05T09:00:00.250000")
    data.vacancies.loc[1, C.salary_min] = 6500.5
    write_bundle(data, tmp_path)
    frame = data.vacancies.sort_values(C.vacancy)
    expected = [
        [format_cell(v, c) for v, c in zip(row, frame.columns, strict=True)]
        for row in frame.itertuples(index=False, name=None)
    ]
    import csv

    with (tmp_path / "vacancies.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert rows == expected
    assert rows[1][9] == "6500.5"
    data.vacancies.loc[1, C.salary_min] = 6500.0
    write_bundle(data, tmp_path)
    assert read_bundle(tmp_path).vacancies.set_index(C.vacancy).loc["V1", C.posted_at] == pd.Timestamp(
        "2026-01-05T09:00:00.250000"
    )


def test_unnamed_empty_columns_are_ignored_but_unnamed_data_is_not(bundle: Path) -> None:
    path = bundle / "skills.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line + "," for line in lines) + "\n", encoding="utf-8")
    assert len(read_bundle(bundle).skills) == 8
    lines[1] += ",surprise"
    path.write_text("\n".join(line + "," for line in lines) + "\n", encoding="utf-8")
    assert problems_of(bundle)[0].startswith("skills.csv:1: (column 6): unknown column")


def test_header_only_files_are_an_empty_market(tmp_path: Path) -> None:
    for entity, columns in ENTITY_COLUMNS.items():
        (tmp_path / BUNDLE_FILES[entity]).write_text(",".join(columns) + "\n", encoding="utf-8")
    assert set(read_bundle(tmp_path).counts().values()) == {0}
