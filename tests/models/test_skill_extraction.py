"""Skill extraction from Chinese and English vacancy text."""

from __future__ import annotations

from models.skill_extraction import SkillExtractor, extract_skills

TAXONOMY = [
    ("wire_bonding", ("引线键合", "wire bonding"), ("WB", "bonding")),
    ("flip_chip", ("倒装焊", "flip chip"), ("FC", "倒装")),
    ("soldering", ("焊接", "soldering"), ("焊",)),
    ("spc", ("统计过程控制", "statistical process control"), ("SPC",)),
    ("lithography", ("光刻", "lithography"), ()),
    ("ate_test", ("自动测试设备", "ATE testing"), ("ATE",)),
    ("c_lang", ("C语言", "C"), ()),
]


def test_the_issue_example() -> None:
    assert extract_skills("熟悉引线键合和倒装焊工艺，有SPC经验", TAXONOMY) == [
        "wire_bonding",
        "flip_chip",
        "spc",
    ]


def test_longest_match_wins_over_overlapping_shorter_alias() -> None:
    # 倒装焊 contains 焊 (soldering's alias) and 倒装 (its own alias): only flip_chip is reported.
    assert extract_skills("精通倒装焊", TAXONOMY) == ["flip_chip"]
    assert extract_skills("会焊接，也会倒装焊", TAXONOMY) == ["soldering", "flip_chip"]
    assert extract_skills("statistical process control (SPC)", TAXONOMY) == ["spc"]


def test_english_is_case_insensitive_with_word_boundaries() -> None:
    assert extract_skills("Experience with Wire Bonding and spc.", TAXONOMY) == ["wire_bonding", "spc"]
    assert extract_skills("SPCX and aspc and SPC2 are not SPC-like", TAXONOMY) == ["spc"]
    assert extract_skills("bondings", TAXONOMY) == []
    assert extract_skills("熟悉ATE和C语言", TAXONOMY) == ["ate_test", "c_lang"]
    assert extract_skills("Objective-C or C++", TAXONOMY) == ["c_lang"]  # 'C' stands alone twice
    assert extract_skills("ACE", TAXONOMY) == []


def test_full_width_letters_are_normalised() -> None:
    assert extract_skills("掌握ＳＰＣ与光刻", TAXONOMY) == ["spc", "lithography"]


def test_each_skill_once_in_order_of_first_mention() -> None:
    assert extract_skills("光刻、SPC、光刻、统计过程控制", TAXONOMY) == ["lithography", "spc"]


def test_empty_text_and_empty_taxonomy() -> None:
    assert extract_skills("", TAXONOMY) == []
    assert extract_skills("熟悉引线键合", []) == []


def test_preferred_clauses() -> None:
    extractor = SkillExtractor(TAXONOMY)
    required, preferred = extractor.extract_split("熟悉引线键合工艺；有SPC经验者优先。Lithography is a plus")
    assert required == ["wire_bonding"]
    assert preferred == ["spc", "lithography"]
    required, preferred = extractor.extract_split("SPC required, SPC certification preferred")
    assert required == ["spc"] and preferred == []
