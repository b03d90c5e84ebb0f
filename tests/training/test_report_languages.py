"""The evaluation report in English and Chinese, like the pages: ``report.html`` and ``report.zh.html``,
the same figures, each page in its language and linking to the other."""

from __future__ import annotations

import re
from pathlib import Path

from tests.models.conftest import FAST, small_market
from training.report import run_evaluation, write_report
from training.report_words import WORDS


def test_the_report_is_written_in_english_and_chinese(tmp_path: Path) -> None:
    evaluation = run_evaluation(
        small_market(n_graduates=80, n_vacancies=24), config=FAST, ablations=False, k=5
    )
    paths = write_report(evaluation, tmp_path)
    english = (tmp_path / "report.html").read_text(encoding="utf-8")
    chinese = (tmp_path / "report.zh.html").read_text(encoding="utf-8")
    assert {tmp_path / "report.html", tmp_path / "report.zh.html"} <= set(paths)
    assert '<html lang="en">' in english and '<html lang="zh-CN">' in chinese
    assert 'href="report.zh.html"' in english and 'href="report.html"' in chinese
    assert "<h1>talentmatch 离线评估报告</h1>" in chinese and "企业推进口径与校准" in chinese
    assert "双边模型" in chinese and "Accepted outcomes and calibration" not in chinese
    # The fairness section too: its words and table heads in Chinese, its figures the same.
    assert "公平性与曝光" in chinese and "<th>影响比</th>" in chinese and "impact ratio" not in chinese
    # The same figures in both: every number in the tables.
    numbers = re.compile(r"<td>(-?\d+\.\d+)</td>")
    assert numbers.findall(english) == numbers.findall(chinese) != []


def test_every_report_word_has_both_languages_with_their_punctuation() -> None:
    for key, (english, chinese) in WORDS.items():
        assert chinese, key
        assert not re.search(r"[（）：，。；、]", english), key
        assert not re.search(r"[\u4e00-\u9fff][,:;()]|[,:;(][\u4e00-\u9fff]", chinese), key
        assert set(re.findall(r"\{(\w+)\}", english)) == set(re.findall(r"\{(\w+)\}", chinese)), key
