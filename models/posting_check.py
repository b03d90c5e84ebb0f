"""Discriminatory requirements in a job posting's text: gender, marriage and childbirth, age, ethnicity, place
of origin (hukou), appearance, health status.

A pure function over the posting's text fields (:func:`check_posting`), beneath everything that takes a
vacancy in (the API, the posting form, bundle imports, uploads), so each finds the same things. It follows the
2019 notice of China's Ministry of Human Resources and Social Security and seven other departments against
gender and marriage/childbirth requirements in recruitment, the Employment Promotion Law (ethnicity,
hukou, hepatitis B carriers) and the EU and US rules on age and appearance. Age limits and appearance are
sometimes lawful or job-related, so every finding is a warning for a person to judge; the service decides
whether a warning refuses the posting (``TALENTMATCH_POSTING_CHECK``).

Each rule is a pattern for the requirement and patterns for the neutral phrasings of the same words
("男女不限", "不限户籍", "协助落户", "婚假"): a finding overlapping a neutral phrase is dropped, so ordinary
text passes. Offsets are Python string indices (code points) into the field's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CODES", "MESSAGES", "PostingWarning", "check_posting", "check_text"]

# code -> (English, Chinese) message; the flagged text is shown beside it.
MESSAGES: dict[str, tuple[str, str]] = {
    "gender": (
        "requires or prefers a gender; postings may not restrict or favour a gender unless the state "
        "forbids the work to women",
        "限定或优先某一性别；除国家规定不适合妇女的工种外，招聘不得限定性别",
    ),
    "marriage_childbirth": (
        "asks about marriage or childbirth; postings may not require or ask a marital or childbirth status",
        "涉及婚育状况；招聘不得限制婚姻、生育状况",
    ),
    "age": (
        "sets an age limit; check that it is required by law or by the work, or remove it",
        "设定了年龄限制；请确认是否为法律或岗位所必需，否则请删除",
    ),
    "ethnicity": (
        "restricts or favours an ethnic group; postings may not discriminate by ethnicity",
        "限定或优先某一民族；招聘不得有民族歧视",
    ),
    "origin": (
        "restricts by place of origin or household registration (hukou); postings may not exclude "
        "applicants by where they come from",
        "限定户籍或籍贯；招聘不得以户籍、地域排斥求职者",
    ),
    "appearance": (
        "asks for height, weight or looks; remove it unless the work itself needs it",
        "要求身高、体重或相貌；除非岗位确有需要，请删除",
    ),
    "health_status": (
        "excludes carriers of hepatitis B or HIV; this is unlawful except for posts the state names",
        "排斥乙肝病原携带者或艾滋病感染者；除国家规定的岗位外属违法",
    ),
}
CODES = tuple(MESSAGES)

_CN = r"\u4e00-\u9fff"
_BREAK = r"，。；;,\n！!？?"  # clause boundaries
_REQUIRE = (
    r"(?:限|仅限|只限|仅|只|限定|要求|需要?|须|必须(?:是|为)?|最好(?:是|为)?|适合|招收|招聘|仅招|只招|招)"
)
_REFUSE = r"(?:勿扰|免谈|不考虑|不予考虑|不要|不招|谢绝|除外|慎投|勿投|不收)"
_PREFER = r"(?:优先|为主|者优先|更佳|尤佳|最好|最佳)"
_GENDER = r"(?:男|女)(?:性|生|士|孩|工|同志)?"
_ETHNIC = r"(?:汉|回|维吾尔|维|藏|蒙古|壮|满|苗|彝|土家|朝鲜|哈萨克|布依|侗|瑶|白|傣|黎|畲|少数民|其他民)族"

# A height or weight with its unit and bound: "165以上", "1.60米", "50公斤以下", "160-175cm".
_MEASURE = (
    r"\d+(?:\.\d+)?\s*(?:[-~～—至到－]\s*\d+(?:\.\d+)?\s*)?(?:cm|CM|厘米|公分|米|m|kg|KG|公斤|千克|斤)?"
    r"\s*(?:以上|及以上|以下|及以下|以内|之间|左右)?"
)


@dataclass(frozen=True)
class _Rule:
    code: str
    pattern: re.Pattern[str]


def _rules(code: str, *patterns: str, flags: int = 0) -> list[_Rule]:
    """One rule matching any of ``patterns`` (one scan of the text instead of one per pattern)."""
    return [_Rule(code, re.compile("|".join(f"(?:{p})" for p in patterns), flags))]


_I = re.IGNORECASE

RULES: list[_Rule] = [
    # --- gender ---------------------------------------------------------------------------------------
    *_rules(
        "gender",
        rf"{_REQUIRE}\s*{_GENDER}(?![女男])",
        rf"(?<![男女子儿妇]){_GENDER}\s*{_PREFER}",
        rf"(?<![男女子儿妇]){_GENDER}\s*{_REFUSE}",
        rf"(?:{_REFUSE}|不适合)\s*{_GENDER}(?![女男])",
        r"性别\s*(?:要求)?\s*[:：]?\s*(?:限|为|是)?\s*(?:男|女)(?:性|生)?(?![女男])",
        r"(?:男|女)(?:性|生)?\s*(?:员工|工人|操作工|普工|技术员)?\s*(?:限定|专属|专招)",
    ),
    *_rules(
        "gender",
        r"\b(?:males?|females?|men|women|man|woman|boys?|girls?|ladies|gentlemen)\s+"
        r"(?:only|preferred|applicants only|candidates only|applicants preferred|candidates preferred)\b",
        r"\b(?:only|exclusively)\s+(?:males?|females?|men|women|ladies)\b",
        r"\bmust\s+be\s+(?:an?\s+)?(?:male|female|man|woman)\b",
        r"\bpreferably\s+(?:an?\s+)?(?:male|female|man|woman)\b",
        r"\bgender\s*[:：]\s*(?:male|female|man|woman|m|f)\b",
        r"\b(?:no|not)\s+(?:females?|males?|women|men)\b",
        flags=_I,
    ),
    # --- marriage and childbirth ---------------------------------------------------------------------
    *_rules(
        "marriage_childbirth",
        r"已婚已育|已婚未育|已婚|未婚|已育|未育|离异|丧偶|婚育|婚否|婚姻状况",
        rf"{_REQUIRE}\s*单身|单身\s*{_PREFER}",
        r"(?:[0-9一二两三四五]\s*年内|近期|入职后.{0,4})\s*(?:不|无)\s*(?:生育|生小孩|要孩子|怀孕|结婚)",
        r"(?:无|没有|暂无|暂不|不)(?:考虑|打算|准备)?\s*(?:生育|生二胎|生小孩|要孩子)(?:计划|打算)?",
        rf"(?:孕妇|孕期|怀孕|哺乳期)\s*(?:者)?\s*{_REFUSE}|不得(?:怀孕|生育)|(?:非|不在)孕期",
        rf"(?:有|已有)(?:小孩|孩子)\s*(?:者)?\s*{_PREFER}",
    ),
    *_rules(
        "marriage_childbirth",
        r"\b(?:un)?married\b",
        r"\bsingle\s+(?:only|preferred|applicants|candidates)\b",
        r"\bmarital\s+status\b",
        r"\b(?:not|no)\s+(?:be\s+)?pregnant\b",
        r"\bno\s+(?:plans?\s+(?:for|to\s+have)\s+)?(?:children|kids|pregnancy)\b",
        r"\bpregnan(?:t|cy)\b",
        flags=_I,
    ),
    # --- age (a warning: age can be lawful) ----------------------------------------------------------
    *_rules(
        "age",
        rf"(?:年龄|年纪)[^{_BREAK}]{{0,14}}?\d{{2}}(?:\s*(?:[-~～—至到]|－)\s*\d{{2}})?\s*(?:周?岁)?"
        rf"(?:\s*(?:以下|以内|之内|及以下|以上|及以上|之间|左右|上下))?",
        r"\d{2}\s*(?:[-~～—至到－]\s*\d{2}\s*)?周?岁\s*(?:以下|以内|之内|及以下|以上|及以上|之间|左右|上下|内)?",
        r"不(?:超过|大于|高于|满)\s*\d{2}\s*周?岁",
        rf"{_REQUIRE}\s*(?:[5-9]0|[89]5|00|05)后|(?:[5-9]0|[89]5|00|05)后\s*{_PREFER}",
        rf"年轻(?:人|化)?\s*{_PREFER}|{_REQUIRE}\s*年轻",
        rf"(?:大龄|中年人?)\s*{_REFUSE}",
    ),
    *_rules(
        "age",
        r"\b(?:age[ds]?|aged)\b[^.;\n]{0,20}?\d{2}\b(?:\s*(?:-|–|to|and)\s*\d{2}\b)?",
        r"\b(?:under|below|younger\s+than|no\s+older\s+than|not\s+older\s+than|not\s+over|over|above)"
        r"\s+\d{2}\s*(?:years?\s*old|yrs?\s*old|years?\s+of\s+age)",
        r"\b\d{2}\s*(?:years?\s*old|yrs?\s*old)\s+(?:or\s+(?:younger|under|below|less)|and\s+(?:under|below))",
        r"\b(?:young|youthful)\s+(?:candidates|applicants|people|team\s+members)\s+(?:only|preferred)\b",
        flags=_I,
    ),
    # --- ethnicity -----------------------------------------------------------------------------------
    *_rules(
        "ethnicity",
        r"汉族",
        rf"{_REQUIRE}\s*{_ETHNIC}|{_ETHNIC}\s*(?:人员|同胞)?\s*(?:{_REFUSE}|{_PREFER})",
        rf"民族\s*(?:要求)?\s*[:：]\s*[{_CN}]{{1,4}}族?|民族要求",
        r"(?:新疆|西藏)(?:籍|人)\s*" + rf"(?:{_REFUSE})",
    ),
    *_rules(
        "ethnicity",
        r"\b(?:han|uy[g]?hurs?|uighurs?|tibetans?|hui|ethnic\s+\w+)\s+(?:chinese\s+)?"
        r"(?:only|preferred|applicants\s+only)\b",
        r"\bethnicity\s*[:：]",
        r"\b(?:no|not)\s+(?:uy[g]?hurs?|uighurs?|tibetans?|ethnic\s+minorities)\b",
        flags=_I,
    ),
    # --- place of origin / hukou ----------------------------------------------------------------------
    *_rules(
        "origin",
        r"(?:本地|本市|本省|当地|本区|本县|本镇|城镇|农村|非农业?)(?:户籍|户口|籍)",
        rf"{_REQUIRE}\s*[{_CN}]{{0,6}}(?:户籍|户口|籍贯|生源)",
        rf"[{_CN}]{{1,4}}(?:户籍|户口)\s*(?:人员|者)?\s*(?:{_PREFER}|{_REFUSE})",
        rf"[{_CN}]{{2,3}}籍\s*(?:人员|人士)?\s*(?:{_PREFER}|{_REFUSE})",
        r"籍贯",
        rf"(?:本地|当地|本市)(?:人|生源)\s*(?:{_PREFER}|{_REFUSE})",
        r"(?:外地|外省|外籍|外乡|[\u4e00-\u9fff]{2})(?:人|户口|户籍)\s*(?:勿扰|免谈|除外|不考虑|谢绝)",
        rf"{_REQUIRE}\s*(?:本地|当地|本市)(?:人|居民|生源)",
    ),
    *_rules(
        "origin",
        r"\bhukou\b",
        r"\bhousehold\s+registration\b",
        r"\blocals?\s+(?:only|preferred)\b",
        r"\blocal\s+(?:residents?|people)\s+(?:only|preferred)\b",
        r"\bmust\s+be\s+(?:a\s+)?(?:local|native)\b",
        r"\bnatives?\s+of\s+\w+\s+(?:only|preferred)\b",
        flags=_I,
    ),
    # --- appearance ----------------------------------------------------------------------------------
    *_rules(
        "appearance",
        r"(?:男|女)?(?:性|生)?\s*身高\s*(?:要求)?\s*[:：]?\s*(?:男|女)?\s*(?:在|须|需)?\s*" + _MEASURE,
        r"\d{3}\s*(?:cm|CM|厘米|公分)\s*(?:以上|及以上|以下|之间)?",
        r"体重\s*(?:要求)?\s*[:：]?\s*(?:在|须|需)?\s*" + _MEASURE + r"|体重\s*(?:适中|匀称|标准)",
        r"形象气质|形象\s*(?:好|佳|优|良好|出众|端庄|姣好)|气质\s*(?:好|佳|优|出众|端庄)",
        r"五官端正|相貌端正|容貌端正|面容姣好|相貌(?:好|佳|出众|姣好)|长相(?:好|佳|甜美|端正|出众|漂亮|帅气)",
        r"颜值|身材(?:好|佳|匀称|苗条|高挑|标准)|外貌|外表|外形(?:好|佳|靓丽|条件|出众|姣好)|貌美|"
        r"(?:男|女)(?:性|生|孩|士)?\s*(?:漂亮|帅气|美丽)|(?:无|不得有|不能有)\s*(?:纹身|刺青)",
    ),
    *_rules(
        "appearance",
        r"\bgood[- ]looking\b",
        r"\b(?:attractive|pleasant|good|nice)\s+(?:appearance|looks|figure)\b",
        r"\b(?:height|heights)\s*(?:of\s*)?(?:above|over|at\s+least|min(?:imum)?|≥|>=)?\s*[:：]?\s*\d{3}\s*cm\b",
        r"\bweight\s+(?:under|below|less\s+than)\b",
        r"\bno\s+tattoos?\b",
        flags=_I,
    ),
    # --- health status ---------------------------------------------------------------------------------
    *_rules(
        "health_status",
        r"乙肝|大三阳|小三阳|乙型肝炎|艾滋病|HIV",
        flags=_I,
    ),
    *_rules("health_status", r"\bhepatitis\s*B\b|\bHBV\b", flags=_I),
]

# Words one of a code's rules needs: a text with none of them skips that code's rules (most postings do).
TRIGGERS: dict[str, re.Pattern[str]] = {
    code: re.compile(words, re.IGNORECASE)
    for code, words in {
        "gender": r"男|女|性别|male|\bm[ae]n\b|wom[ae]n|\bboys?\b|girls?|ladies|gentlemen",
        "marriage_childbirth": r"婚|育|单身|孕|孩子|小孩|哺乳|married|single|marital|pregnan|children|kids",
        "age": r"岁|年龄|年纪|后|年轻|大龄|中年|\bage|old|young|youthful",
        "ethnicity": r"族|新疆|西藏|\bhan\b|uy|uighur|tibetan|\bhui\b|ethnic",
        "origin": r"户|籍|本地|当地|本市|生源|勿扰|免谈|除外|不考虑|谢绝|hukou|household|local|native",
        "appearance": r"身高|体重|cm|厘米|公分|形象|气质|五官|相貌|容貌|面容|长相|颜值|身材|外貌|外表|外形|"
        r"貌美|漂亮|帅气|美丽|纹身|刺青|looking|appearance|looks|figure|height|weight|tattoo",
        "health_status": r"乙肝|三阳|乙型|艾滋|HIV|hepatitis|HBV",
    }.items()
}

# Neutral phrasings: a finding overlapping one of these is not a requirement.
NEUTRAL: dict[str, re.Pattern[str]] = {
    "gender": re.compile(
        r"男女(?:不限|均可|皆可|兼收|不论|不分|比例|平等|同工同酬|各半)|(?:不限|不论|不分|无论)\s*男女|"
        r"性别\s*[:：]?\s*(?:不限|无要求|不做要求|均可|无)|(?:不限|不论|无论|不分)\s*性别|青年男女|"
        r"男女(?:员工|职工|宿舍)|女(?:性|职)?工(?:劳动)?保护|女职工|"
        r"(?:regardless\s+of|any|all|irrespective\s+of)\s+gender|gender\s*[:：]\s*any|"
        r"\b(?:male\s+(?:or|and)\s+female|men\s+(?:or|and)\s+women|women\s+(?:or|and)\s+men)\b",
        _I,
    ),
    "marriage_childbirth": re.compile(
        r"婚育(?:状况)?\s*(?:不限|均可|无要求)|(?:不限|不论|无论)\s*婚(?:育|否|姻)|婚否\s*[:：]?\s*不限|"
        r"婚姻状况\s*[:：]?\s*不限|已婚未婚均可|已婚或未婚均可|"
        r"(?:regardless\s+of|irrespective\s+of|any)\s+marital\s+status|marital\s+status\s*[:：]?\s*any|"
        r"pregnancy\s+(?:leave|care|benefits?|protection)|maternity|夫妻房|已婚(?:员工|职工)?(?:可|提供|享受|安排)|"
        r"生育(?:保险|津贴|假|险)|婚假|产假|陪产假|育儿假",
        _I,
    ),
    "age": re.compile(
        r"(?:不限|不论|无论)\s*年龄|年龄\s*[:：]?\s*(?:不限|无要求|不做要求)|"
        r"(?:年满|满|已满)\s*1[68]\s*周?岁|1[68]\s*周?岁\s*(?:以上|及以上)|"
        r"(?:regardless\s+of|any|no)\s+age(?:\s+limit)?|aged?\s+(?:18|16)\s*(?:\+|or\s+over|and\s+over|or\s+older)|"
        r"(?:over|above|at\s+least)\s+(?:16|18)\s*(?:years?\s*old|yrs?\s*old|years?\s+of\s+age)",
        _I,
    ),
    "ethnicity": re.compile(r"(?:不限|不论|无论|不分)\s*民族|民族\s*[:：]?\s*不限|各民族", _I),
    "origin": re.compile(
        r"(?:不限|不论|无论|不分)\s*(?:户籍|户口|籍贯|地域|生源地?)|(?:户籍|户口|籍贯|地域|生源地?)\s*[:：]?\s*"
        r"(?:不限|均可|无要求)|落户|户口迁移|迁户|办理户口|户口办理|户籍(?:迁|转)入|入户|(?:hukou|household\s+registration)\s+"
        r"(?:not\s+required|assistance|support|transfer|settlement|is\s+not\s+required)|"
        r"(?:any|no)\s+hukou(?:\s+(?:needed|required|requirement))?|help\s+(?:with\s+)?(?:the\s+)?hukou|"
        r"hukou\s+(?:is\s+)?(?:not\s+required|not\s+needed)|regardless\s+of\s+(?:hukou|origin)",
        _I,
    ),
    "appearance": re.compile(r"(?:企业|品牌|公司|产品)形象"),
    "health_status": re.compile(r"不(?:查|检查|检测)乙肝|乙肝(?:携带者)?\s*(?:不限|均可|可以)|不歧视", _I),
}
# Words near a bare length ("120厘米") that make it a size of a thing (a package, a wafer, a machine), not a
# person's height.
_TECHNICAL = re.compile(
    r"晶圆|芯片|封装|器件|产品|设备|机台|尺寸|厚度|直径|行程|工作台|长|宽|高度|[×xX*]", re.IGNORECASE
)
_TECH_WINDOW = 12
_BARE_LENGTH = re.compile(r"\d{3}\s*(?:cm|CM|厘米|公分).*")


@dataclass(frozen=True)
class PostingWarning:
    """One requirement found in a posting's text.

    Attributes
    ----------
    code
        One of :data:`CODES`.
    field
        The text field it was found in (``title``, ``description``, ...).
    start, end
        Its character offsets in that field's text (``text[start:end]``).
    text
        The flagged text itself.
    """

    code: str
    field: str
    start: int
    end: int
    text: str

    def message(self, language: str = "en") -> str:
        english, chinese = MESSAGES[self.code]
        return chinese if language.startswith("zh") else english


# Neutral for every code: "不限性别、年龄、户籍", "regardless of gender, age or marital status".
_TOPIC = r"(?:性别|年龄|户籍|户口|婚育|婚姻|婚否|民族|地域|籍贯|[、和及与或/]|\s)"
COMMON_NEUTRAL = re.compile(
    rf"(?:不限|不论|无论|不分){_TOPIC}{{2,24}}(?:均可|不限)?|{_TOPIC}{{2,24}}(?:均|都|皆)?(?:不限|无要求|不做要求)|"
    r"(?:regardless|irrespective)\s+of\s+[^.;\n]{0,80}|without\s+regard\s+to\s+[^.;\n]{0,80}",
    re.IGNORECASE,
)


def _neutral_spans(text: str, codes: set[str]) -> dict[str, list[tuple[int, int]]]:
    common = [m.span() for m in COMMON_NEUTRAL.finditer(text)] if codes else []
    return {code: [m.span() for m in NEUTRAL[code].finditer(text)] + common for code in codes}


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _technical_length(text: str, found: str, span: tuple[int, int]) -> bool:
    """A bare length ("120厘米") near a technical word is the size of a thing, not a person's height."""
    if not _BARE_LENGTH.fullmatch(found):
        return False
    window = text[max(0, span[0] - _TECH_WINDOW) : span[1] + _TECH_WINDOW]
    return _TECHNICAL.search(window) is not None and "身高" not in window


def check_text(text: str, field: str = "description") -> list[PostingWarning]:
    """The discriminatory requirements in one text field, in order of position (overlapping findings
    of one code merged into one)."""
    if not text:
        return []
    triggered = {code for code, words in TRIGGERS.items() if words.search(text)}
    neutral = _neutral_spans(text, triggered)
    found: dict[str, list[tuple[int, int]]] = {}
    for rule in RULES:
        if rule.code not in triggered:
            continue
        for match in rule.pattern.finditer(text):
            span = match.span()
            if span[0] == span[1] or _overlaps(span, neutral[rule.code]):
                continue
            if rule.code == "appearance" and _technical_length(text, match.group(), span):
                continue
            found.setdefault(rule.code, []).append(span)
    warnings: list[PostingWarning] = []
    for code, spans in found.items():
        for start, end in _merge(spans):
            warnings.append(PostingWarning(code, field, start, end, text[start:end]))
    return sorted(warnings, key=lambda w: (w.start, w.end, w.code))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def check_posting(fields: Mapping[str, str | None]) -> list[PostingWarning]:
    """The discriminatory requirements in a posting's text fields (``{"title": ..., "description": ...}``),
    field by field in the order given, each field's in order of position."""
    warnings: list[PostingWarning] = []
    for field, text in fields.items():
        warnings.extend(check_text(text or "", field))
    return warnings
