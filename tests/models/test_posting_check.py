"""The posting check on real-looking phrasings: each discriminatory requirement is found (its code, its exact
span), and ordinary postings, the neutral phrasings of the same words and the demo world's postings pass."""

from __future__ import annotations

import pytest

from models.posting_check import CODES, MESSAGES, check_posting, check_text
from training.demo import generate

# (text, code, the flagged text must contain this)
POSITIVES: list[tuple[str, str, str]] = [
    ("限男性，吃苦耐劳", "gender", "限男性"),
    ("男性优先，能适应倒班", "gender", "男性优先"),
    ("仅招女工，手脚麻利", "gender", "仅招女"),
    ("女性优先考虑", "gender", "女性优先"),
    ("本岗位只招男生", "gender", "只招男"),
    ("性别：男", "gender", "性别：男"),
    ("性别要求：女", "gender", "性别要求：女"),
    ("男士优先，学历不限", "gender", "男士优先"),
    ("女生勿扰，需上夜班", "gender", "女生勿扰"),
    ("招聘女操作工若干名", "gender", "招聘女"),
    ("适合女性，细心", "gender", "适合女性"),
    ("Male only, night shifts", "gender", "Male only"),
    ("Female candidates preferred", "gender", "Female candidates preferred"),
    ("Applicants must be male.", "gender", "must be male"),
    ("已婚已育者优先", "marriage_childbirth", "已婚已育"),
    ("要求未婚，25岁以下", "marriage_childbirth", "未婚"),
    ("两年内不生育", "marriage_childbirth", "两年内不生育"),
    ("婚姻状况：已婚", "marriage_childbirth", "婚姻状况"),
    ("无生育计划者优先", "marriage_childbirth", "无生育计划"),
    ("孕妇勿扰", "marriage_childbirth", "孕妇勿扰"),
    ("Unmarried applicants only", "marriage_childbirth", "Unmarried"),
    ("35岁以下，大专及以上学历", "age", "35岁以下"),
    ("年龄：18-35周岁", "age", "18-35周岁"),
    ("年龄在22~30岁之间", "age", "22~30岁之间"),
    ("年龄不超过40岁", "age", "40岁"),
    ("45周岁以内，身体健康", "age", "45周岁以内"),
    ("限90后", "age", "90后"),
    ("Aged 20-30, fluent English", "age", "Aged 20-30"),
    ("Candidates under 35 years old", "age", "under 35 years old"),
    ("限汉族", "ethnicity", "汉族"),
    ("民族：汉族", "ethnicity", "汉族"),
    ("少数民族勿扰", "ethnicity", "少数民族勿扰"),
    ("Han Chinese only", "ethnicity", "Han Chinese only"),
    ("本地户籍，稳定性好", "origin", "本地户籍"),
    ("限绍兴户口", "origin", "限绍兴户口"),
    ("浙江籍优先", "origin", "浙江籍优先"),
    ("要求本地人", "origin", "要求本地人"),
    ("籍贯：浙江", "origin", "籍贯"),
    ("河南人勿扰", "origin", "河南人勿扰"),
    ("Local hukou required", "origin", "hukou"),
    ("Locals only", "origin", "Locals only"),
    ("身高165以上，形象气质佳", "appearance", "身高165"),
    ("形象气质佳，普通话标准", "appearance", "形象气质"),
    ("五官端正，无纹身", "appearance", "五官端正"),
    ("女身高160cm以上", "appearance", "身高160"),
    ("相貌端正，体重50公斤以下", "appearance", "相貌端正"),
    ("Good-looking receptionist", "appearance", "Good-looking"),
    ("Height above 170 cm", "appearance", "170 cm"),
    ("乙肝携带者勿扰", "health_status", "乙肝"),
    ("No hepatitis B carriers", "health_status", "hepatitis B"),
]

NEGATIVES: list[str] = [
    "男女不限，吃苦耐劳",
    "不限户籍，欢迎外地求职者",
    "身体健康，能适应倒班",
    "性别不限",
    "不限年龄，有经验者优先",
    "年龄不限",
    "婚育不限",
    "户籍不限，公司协助办理落户",
    "可协助落户，享受人才落户补贴",
    "提供单身宿舍和夫妻房",
    "五险一金，带薪年假，婚假产假",
    "缴纳生育保险",
    "年满18周岁",
    "18周岁以上，身体健康",
    "3年以上半导体封装经验",
    "熟悉12英寸晶圆制造工艺",
    "负责200mm和300mm设备的维护",
    "工作台尺寸120厘米×60厘米",
    "有SPC经验者优先",
    "熟悉引线键合和倒装焊工艺，有SPC经验",
    "本科及以上学历，理工科相关专业",
    "无色盲色弱，能在洁净室工作",
    "员工子女优先入学",
    "女职工享受三期保护",
    "维护企业形象，保守商业秘密",
    "欢迎各民族求职者",
    "不限民族",
    "团队年轻有活力",
    "工作地点：绍兴市越城区。薪资6000-9000元/月，五险一金。",
    "本地人才市场招聘会",
    "Regardless of gender, age or marital status",
    "Open to all genders",
    "Male or female applicants welcome",
    "Hukou not required; we help with hukou transfer",
    "Attractive salary and benefits",
    "Paid maternity leave and pregnancy leave",
    "Applicants aged 18 or over",
    "Experience with 300 mm wafers",
    "Wire bonding required. Flip chip experience preferred",
    "Manage a team of 12 technicians",
    "单身公寓，食堂包餐",
    "男女员工同工同酬",
    "产品外形尺寸检验",
]


def _codes(text: str) -> list[str]:
    return [w.code for w in check_text(text)]


@pytest.mark.parametrize(("text", "code", "flagged"), POSITIVES)
def test_a_discriminatory_requirement_is_found_where_it_is(text: str, code: str, flagged: str) -> None:
    warnings = [w for w in check_text(text, "description") if w.code == code]
    assert warnings, f"{text!r}: no {code} warning (found {_codes(text)})"
    assert any(flagged in w.text for w in warnings), [w.text for w in warnings]
    for warning in warnings:
        assert text[warning.start : warning.end] == warning.text
        assert warning.field == "description"


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_text_passes(text: str) -> None:
    assert check_text(text) == [], [(w.code, w.text) for w in check_text(text)]


def test_enough_phrasings_of_each_kind() -> None:
    assert len(POSITIVES) >= 30 and len(NEGATIVES) >= 30
    assert {code for _, code, _ in POSITIVES} == set(CODES)


def test_every_code_has_a_message_in_both_languages() -> None:
    for code in CODES:
        english, chinese = MESSAGES[code]
        assert english.isascii() and not chinese.isascii()


def test_fields_are_checked_each_with_its_own_offsets() -> None:
    warnings = check_posting({"title": "操作工（限男性）", "role": "", "description": "男女不限。35岁以下"})
    assert [(w.field, w.code, w.start, w.end) for w in warnings] == [
        ("title", "gender", 4, 7),
        ("description", "age", 5, 10),
    ]
    assert warnings[0].message("zh").startswith("限定") and warnings[0].message("en").startswith("requires")


def test_neutral_and_discriminatory_phrases_in_one_text() -> None:
    text = "男女不限，已婚已育优先，不限户籍，身高160以上"
    assert _codes(text) == ["marriage_childbirth", "appearance"]


def test_the_demo_worlds_postings_pass() -> None:
    data = generate("small", seed=7).data
    vacancies = data.vacancies
    flagged = [
        (w.code, w.text)
        for title, description in zip(vacancies["title"], vacancies["description"], strict=True)
        for w in check_posting({"title": title, "description": description})
    ]
    assert flagged == []


@pytest.mark.parametrize(
    "text",
    ["不限性别、年龄、户籍", "性别、年龄、婚否均不限", "We hire without regard to gender, age or hukou"],
)
def test_lists_of_what_is_not_required_pass(text: str) -> None:
    assert check_text(text) == [], [(w.code, w.text) for w in check_text(text)]


def test_a_neutral_clause_does_not_hide_its_neighbour() -> None:
    assert _codes("限男性，年龄不限") == ["gender"]
    assert _codes("性别：男，学历不限") == ["gender"]
    assert _codes("男女不限，35岁以下") == ["age"]
