"""The pages' words (service.web.i18n.MESSAGES) in both languages, each with its own punctuation.

- Every key has a Chinese and an English text, neither empty, with the same ``{placeholders}``.
- Chinese uses full-width punctuation next to Chinese characters (no "记录进展:" or "（选填)" mixes).
- English has no full-width punctuation (Chinese words may appear as examples of what to type).
- Every key a template or a page names literally is in the catalogue.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.web.i18n import MESSAGES

WEB = Path(__file__).resolve().parents[2] / "service" / "web"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CJK = r"\u3400-\u9fff"
# An ASCII mark touching a Chinese character: "记录进展:" or "(选填" or "岗位,".
ASCII_IN_CHINESE = re.compile(rf"[{CJK}][,:;!?()]|[,:;!?(][{CJK}]|[{CJK}]\.(?:\s|$)")
FULL_WIDTH = re.compile(r"[（）：，。；、！？【】《》]")
# Literal keys only: a key built from parts ("role." ~ user.role) ends in a dot and is not checked.
KEY_LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.]*[a-z0-9_])["']""")
FLASH_LITERAL = re.compile(r"""\bflash\(\s*request,\s*["']([a-z0-9_.]*[a-z0-9_])["']""")


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    problems = []
    for key, texts in MESSAGES.items():
        if not (
            isinstance(texts, tuple) and len(texts) == 2 and all(isinstance(t, str) and t for t in texts)
        ):
            problems.append(f"{key}: needs a Chinese and an English text")
            continue
        zh, en = texts
        if set(PLACEHOLDER.findall(zh)) != set(PLACEHOLDER.findall(en)):
            problems.append(f"{key}: placeholders differ: {zh!r} / {en!r}")
    assert not problems, "\n".join(problems)


def test_chinese_texts_use_chinese_punctuation() -> None:
    wrong = {key: zh for key, (zh, _) in MESSAGES.items() if ASCII_IN_CHINESE.search(zh)}
    assert not wrong, wrong


def test_english_texts_use_english_punctuation() -> None:
    wrong = {key: en for key, (_, en) in MESSAGES.items() if FULL_WIDTH.search(en)}
    assert not wrong, wrong


@pytest.mark.parametrize("text", ["记录进展:", "（选填)", "岗位,共"])
def test_the_rule_catches_ascii_marks_in_chinese(text: str) -> None:
    assert ASCII_IN_CHINESE.search(text) or FULL_WIDTH.search(text)


def test_every_key_named_by_a_template_or_page_exists() -> None:
    named: dict[str, set[str]] = {}
    sources = [*WEB.glob("templates/**/*.html"), *WEB.glob("pages/*.py"), *WEB.glob("*.py")]
    for path in (p for p in sources if p.name != "i18n.py"):  # its docstring shows t("key")
        text = path.read_text(encoding="utf-8")
        for key in KEY_LITERAL.findall(text) + FLASH_LITERAL.findall(text):
            named.setdefault(key, set()).add(path.name)
    missing = {key: sorted(files) for key, files in named.items() if key not in MESSAGES}
    assert not missing, missing


def test_no_template_hard_codes_punctuation_of_one_language() -> None:
    """Punctuation between words comes from the catalogue (``label.colon``, ``list.sep``), so an English
    page never shows "Sponsor：" and a Chinese one never "地区: "."""
    wrong = []
    for path in WEB.glob("templates/**/*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            outside = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", line)
            if FULL_WIDTH.search(outside) or re.search(r"\}\}:\s|\}\}:<", line):
                wrong.append(f"{path.relative_to(WEB)}:{number}: {line.strip()}")
    assert not wrong, "\n".join(wrong)
