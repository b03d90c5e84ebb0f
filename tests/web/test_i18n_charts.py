"""Words and charts of the pages: every key in both languages, reasons by code, SVG without scripts."""

from __future__ import annotations

import re

from models.columns import (
    EDUCATION_LEVELS,
    EVENTS,
    GRADUATE_STATUSES,
    PROGRAM_KINDS,
    SEGMENTS,
    VACANCY_STATUSES,
)
from models.explain import REASONS
from models.placement import UNASSIGNED_REASONS
from service.web import charts
from service.web.i18n import MESSAGES, Translator, normalise_language, reason_text, translate


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_enums_reason_codes_and_unassigned_codes_are_all_translated() -> None:
    for prefix, values in (
        ("education", EDUCATION_LEVELS),
        ("event", EVENTS),
        ("status", GRADUATE_STATUSES + VACANCY_STATUSES),
        ("kind", PROGRAM_KINDS),
        ("segment", SEGMENTS),
    ):
        for value in values:
            assert f"{prefix}.{value}" in MESSAGES, (prefix, value)
    for code in REASONS:
        assert f"reason.{code}" in MESSAGES, code
    for code in UNASSIGNED_REASONS:
        assert f"unassigned.{code}" in MESSAGES, code


def test_reasons_keep_their_numbers_and_unknown_codes_fall_back() -> None:
    assert reason_text("required_skills", "holds 2 of 3 required skills", "zh") == "掌握 2/3 项必备技能"
    assert reason_text("required_skills", "holds 67% of the required skills", "en") == (
        "Holds 67% of the required skills"
    )
    assert reason_text("preferred_skills", "holds 1 of the preferred skills", "zh") == "掌握 1 项优先技能"
    assert reason_text("education", "education above the minimum", "zh") == "学历高于要求"
    assert (
        reason_text("sponsor_class", "from the sponsor's order-based class", "zh") == "来自本企业冠名的订单班"
    )
    assert reason_text("brand_new", "a new reason", "zh") == "其他因素：a new reason"
    assert reason_text("brand_new", "a new reason", "en") == "a new reason"


def test_the_main_missing_skill_is_named_in_words() -> None:
    def names(skill: str) -> str:
        return {"wire_bonding": "引线键合"}.get(skill, skill)

    assert (
        reason_text(
            "missing_key_skill",
            "lacks wire_bonding; 80% of the graduates this employer advanced held it",
            "zh",
            names,
        )
        == "缺少引线键合：该企业以往推进的毕业生中 80% 具备"
    )
    assert reason_text("missing_skill", "lacks wire_bonding", "zh", names) == "缺少引线键合"
    assert reason_text("missing_skill", "lacks spc", "en") == "Lacks spc"  # no names: the id
    assert reason_text("employer_screening", "employers like this one advanced ...", "zh") == (
        "同类企业曾推进与其相似的毕业生"
    )


def test_language_normalisation_and_translator() -> None:
    assert (
        normalise_language("en-US") == "en"
        and normalise_language("fr") == "zh"
        and normalise_language(None) == "zh"
    )
    t = Translator("en")
    assert t.html_lang == "en" and t("pager.range", first=1, last=10, total=42) == "1–10 of 42"
    assert translate("no.such.key", "zh") == "no.such.key"
    assert Translator("zh").enum("event", "hired") == "已录用"


def test_charts_are_accessible_svg_without_scripts_or_styles_and_escape_labels() -> None:
    bar = str(charts.score_bar(0.734, label="匹配度"))
    assert bar.startswith('<svg class="bar" role="img" aria-label="匹配度 73%"')
    assert 'width="88.1"' in bar
    assert str(charts.score_bar(float("nan"))).count('width="0"') == 1
    paired = str(
        charts.paired_bars(
            [charts.PairedBar("<script>x</script>", 0.5, 1.5)],
            first_name="需求",
            second_name="掌握",
            title="缺口",
        )
    )
    coverage = str(
        charts.coverage_chart(
            assigned=3,
            unassigned=1,
            usage=[charts.Usage("岗位 A", 2, 2), charts.Usage("岗位 B", 1, 4)],
            title="覆盖",
            assigned_name="已安排",
            unassigned_name="未安排",
            used_name="已用",
            free_name="剩余",
        )
    )
    for svg in (bar, paired, coverage):
        assert "<script" not in svg and "style=" not in svg and "<title>" in svg
    assert "&lt;script&gt;" in paired and "100%" in paired  # shares are clamped to 0..1
    assert "2/2" in coverage and "1/4" in coverage and "#b91c1c" not in coverage  # nobody over capacity
    over = str(
        charts.coverage_chart(
            assigned=3, unassigned=0, usage=[charts.Usage("x", 3, 2)], title="t",
            assigned_name="a", unassigned_name="u", used_name="used", free_name="free",
        )
    )  # fmt: skip
    assert "#b91c1c" in over  # an overfull vacancy would show in red
