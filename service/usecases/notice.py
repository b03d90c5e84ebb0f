"""The algorithm notice (算法公示) and the model cards: what the service publishes about how it recommends.

China's Algorithmic Recommendation Provisions (art. 16) ask a recommender to publish its basic principle,
purpose and main mechanism, and (art. 17) to let users turn personalisation off; PIPL art. 24 asks for
transparency, a non-personalised option and a way to contest an automated decision. Both are public: anyone
may read them, with or without a key (``GET /api/v1/algorithm``, ``GET /api/v1/models/{version}/card``, the
``/algorithm`` pages linked from every page's footer), so they take the process's :class:`Services`, not a
signed-in :class:`Context`, and are not audited (they name nobody). The texts live here once, in Chinese and
English; the figures come from the settings and from each version's manifest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.posting_check import CODES as POSTING_CODES
from service.usecases.admin import UnknownModelVersion
from service.usecases.context import NON_PERSONALISED, Services
from training.registry import ArtifactError, Registry

# (Chinese, English)
Text = tuple[str, str]

SECTIONS: list[tuple[str, Text, Text]] = [
    (
        "principle",
        ("基本原理", "Basic principle"),
        (
            "对每一对（毕业生，岗位），服务估计这次匹配成功的概率：毕业生有意向（投递且不放弃），且用人单位"
            "推进（进入初筛、面试、录用）。概率由两个单调的梯度提升模型相乘后校准得到，它们只用明确的配对特"
            "征：岗位要求的技能覆盖及缺少的关键技能、学历差距、毕业生意向区县、订单班与冠名企业、所在培养项"
            "目和学校与该企业以往的录用和筛选情况。LightFM 只用于从大量岗位或毕业生中快速检索候选。硬性条件"
            "（岗位在招、毕业生求职中、达到最低学历）先行过滤。每个结果都附有匹配和缺少的技能以及主要理由。",
            "For each pair (graduate, vacancy) the service estimates the probability that the pairing "
            "succeeds: the graduate is interested (applies and does not decline) and the employer advances "
            "them (shortlisted, interviewed, offered, hired). Two monotone gradient-boosted models, "
            "multiplied and calibrated, give it from explicit pair features only: how many of the required "
            "skills the graduate holds and the key skill missing, the education gap, the districts the "
            "graduate prefers, the order class and its sponsor, and how the graduate's programme and "
            "school fared with the employer before. LightFM only retrieves candidates fast from a large "
            "pool. Hard filters come first (the vacancy is open, the graduate seeking, the minimum "
            "education met). Every result carries the skills matched and missing and the main reasons for "
            "and against.",
        ),
    ),
    (
        "purpose",
        ("目的", "Purpose"),
        (
            "帮助企业人事找到合适的毕业生，帮助学校就业办为整届学员制定安置方案、发现课程缺少的技能。服务只"
            "提供排序和建议：是否联系、面试、录用或不录用，均由人作出并记录。",
            "To help enterprises' HR find suitable graduates, and schools' placement offices plan a "
            "cohort's placements and see which skills their programmes fail to teach. The service ranks "
            "and suggests only: whether to contact, interview, hire or turn down a graduate is decided and "
            "recorded by a person.",
        ),
    ),
    (
        "mechanism",
        ("主要运行机制", "Main mechanism"),
        (
            "按成功概率从高到低排序；低于推荐阈值的配对不作为推荐展示。学校的安置方案在岗位名额约束下使预计"
            "成功安置数最大，并优先满足冠名企业对其订单班的需求。模型由运维人员定期用新的记录重新训练，只有"
            "在时间外验证中优于关键词匹配、且不差于在用模型时才会上线；每个版本的模型卡公开训练数据快照、评"
            "估指标、校准情况和公平性数据。可选的曝光感知重排（默认关闭）只调整顺序、不改变分数。",
            "Results are ordered by the success probability, best first; pairs below the recommendation "
            "floor are not presented as recommendations. A school's placement plan maximises the expected "
            "number of successful placements within each vacancy's seats, the sponsor's vacancies filled "
            "from its order class first. An operator retrains the model on new records; a new version "
            "serves only if it beats the keyword matcher on later events and is not worse than the serving "
            "one. Each version's model card publishes its training data snapshot, metrics, calibration and "
            "fairness figures. An optional exposure-aware re-ranking (off by default) changes the order "
            "only, never a score.",
        ),
    ),
    (
        "data",
        ("使用的数据", "Data used"),
        (
            "毕业生：所在培养项目和学校、学历、专业、技能、意向区县、可到岗日期和求职状态（以假名编号标识，"
            "不含姓名、电话、身份证号）。岗位：企业、职位类别、要求和优先的技能、最低学历、区县、名额、薪资"
            "、发布和截止日期。过往记录：浏览、投递、初筛、面试、录用、未通过、放弃。不收集、不使用性别、年"
            "龄、婚育状况、民族、户籍或籍贯、健康状况、身高相貌；岗位描述中出现此类要求时会被标出。",
            "Graduates: their programme and school, education, major, skills, preferred districts, "
            "availability and search status (by a pseudonymous id: no name, phone or ID number). "
            "Vacancies: the enterprise, role, required and preferred skills, minimum education, district, "
            "headcount, salary, posting and closing dates. Past records: views, applications, shortlists, "
            "interviews, offers, hires, rejections, declines. Gender, age, marital or childbirth status, "
            "ethnicity, hukou or place of origin, health, height and looks are neither collected nor used; "
            "a vacancy text asking for them is flagged.",
        ),
    ),
    (
        "non_personalised",
        ("不使用个性化推荐", "Non-personalised answers"),
        (
            "在 GET /api/v1/vacancies/{vacancy_id}/candidates 和 GET /api/v1/graduates/{graduate_id}/recomm"
            "endations 上加参数 personalised=false，即可得到不经训练模型、只按硬性条件和技能重合度排序的结"
            "果，答复中的 model_version 为 non-personalised。",
            "Add personalised=false to GET /api/v1/vacancies/{vacancy_id}/candidates or GET "
            "/api/v1/graduates/{graduate_id}/recommendations for a list ranked by the hard filters and "
            "skill overlap alone, without the trained model; model_version then reads non-personalised.",
        ),
    ),
    (
        "contest",
        ("如何提出异议", "How to contest a result"),
        (
            "服务不会自动拒绝任何人：每个结果都由人记录，并同时保存当时的模型版本和分数，可供审计导出。对推"
            "荐或结果有异议的毕业生，可向所在学校就业办或该企业人事提出，请其说明理由（每条推荐都附有理由）"
            "并由人重新审查；也可通过学校要求删除个人数据（DELETE /api/v1/graduates/{graduate_id}）。学校和"
            "企业可向本服务的管理员提出，管理员可导出全部记录（GET /api/v1/admin/outcomes）复核，并可回滚模"
            "型版本。",
            "The service rejects no one automatically: every outcome is recorded by a person, with the "
            "model version and score shown at the time, and can be exported for an audit. A graduate who "
            "disputes a suggestion or an outcome asks their school's placement office or the enterprise's "
            "HR for the reasons (every suggestion carries them) and a review by a person, and may have "
            "their data erased through their school (DELETE /api/v1/graduates/{graduate_id}). Schools and "
            "enterprises ask this service's administrator, who can export the whole record (GET "
            "/api/v1/admin/outcomes) to review it and roll a model version back.",
        ),
    ),
]


@dataclass(frozen=True)
class NoticeSection:
    key: str
    title: Text
    body: Text

    def title_in(self, lang: str) -> str:
        return self.title[0] if lang.startswith("zh") else self.title[1]

    def body_in(self, lang: str) -> str:
        return self.body[0] if lang.startswith("zh") else self.body[1]


@dataclass(frozen=True)
class AlgorithmNotice:
    """The notice with the figures of this service: the serving model, the versions with a card, the
    settings that shape answers."""

    sections: list[NoticeSection]
    serving_version: str | None
    versions: list[str]  # the registry's versions, newest first (each has a card)
    non_personalised_version: str
    settings: dict[str, Any]


def algorithm_notice(services: Services) -> AlgorithmNotice:
    """The algorithm notice (public)."""
    settings = services.settings
    model = services.model_holder.get()
    try:
        versions = list(reversed(Registry(settings.artifacts_dir).versions()))
    except (ArtifactError, OSError):
        versions = []
    return AlgorithmNotice(
        sections=[NoticeSection(key, title, body) for key, title, body in SECTIONS],
        serving_version=model.version if model is not None else None,
        versions=versions,
        non_personalised_version=NON_PERSONALISED,
        settings={
            "min_recommend_score": settings.min_recommend_score,
            "fair_rerank": getattr(settings, "fair_rerank", "none"),
            "posting_check": settings.posting_check,
            "posting_check_codes": list(POSTING_CODES),
            "retention_days": settings.retention_days,
            "outcome_retention_days": settings.outcome_retention_days,
        },
    )


@dataclass(frozen=True)
class ModelCard:
    """A model version described from its manifest (no file hashes, library versions or timings)."""

    version: str
    created_at: str | None
    serving: bool
    model: str | None
    training_data: dict[str, Any]
    configuration: dict[str, Any]
    evaluation: dict[str, Any]
    metrics: dict[str, Any]
    calibration: dict[str, Any]
    gate: dict[str, Any]
    fairness: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def model_card(services: Services, version: str) -> ModelCard:
    """The card of one version in the registry (public); :class:`UnknownModelVersion` (404) otherwise."""
    registry = Registry(services.settings.artifacts_dir)
    try:
        manifest = registry.manifest(version)
    except (ArtifactError, OSError, ValueError) as error:
        raise UnknownModelVersion(f"no model version {version!r}") from error
    serving = services.model_holder.get()
    return card_from_manifest(version, manifest, serving=serving is not None and serving.version == version)


def card_from_manifest(version: str, manifest: Mapping[str, Any], *, serving: bool = False) -> ModelCard:
    """A :class:`ModelCard` from a manifest; sections the manifest lacks are empty (fairness: None)."""
    evaluation = _mapping(manifest.get("evaluation"))
    reliability = _mapping(evaluation.get("reliability"))
    calibration = {
        name: {key: curve[key] for key in ("ece", "pairs", "predicted", "observed", "count") if key in curve}
        for name, curve in reliability.items()
        if isinstance(curve, Mapping)
    }
    configuration = {"parameters": _mapping(manifest.get("parameters"))}
    selection = manifest.get("selection")
    if isinstance(selection, Mapping):
        configuration["selection"] = dict(selection)
    gate = _mapping(manifest.get("gate"))
    return ModelCard(
        version=version,
        created_at=_text(manifest.get("created_at")),
        serving=serving,
        model=_text(manifest.get("model")),
        training_data=_mapping(manifest.get("data")),
        configuration=configuration,
        evaluation={
            key: evaluation.get(key)
            for key in ("k", "cut", "train_interactions", "test_interactions", "current_version")
            if key in evaluation
        },
        metrics=_mapping(evaluation.get("metrics")),
        calibration=calibration,
        gate={
            key: gate.get(key)
            for key in ("passed", "promote", "forced", "tolerance", "reasons")
            if key in gate
        },
        fairness=fairness_summary(manifest.get("fairness") or evaluation.get("fairness")),
        notes=[] if manifest.get("fallback") is None else ["keyword fallback: no trained model"],
    )


def fairness_summary(raw: Any) -> dict[str, Any] | None:
    """The fairness figures a manifest carries (``training.fairness`` report), summarised for a card: the
    coverage, the vacancy-side concentration, the lowest impact ratio per attribute and stage, and the
    groups flagged under four-fifths. None when the manifest has none."""
    if not isinstance(raw, Mapping) or not raw:
        return None
    summary: dict[str, Any] = {}
    for key in ("as_of", "k", "coverage", "four_fifths", "min_n"):
        if key in raw:
            summary[key] = raw[key]
    if isinstance(raw.get("vacancies"), Mapping):
        summary["vacancies"] = dict(raw["vacancies"])
    attributes = raw.get("attributes")
    if isinstance(attributes, Mapping):
        summary["min_impact_ratio"] = {
            attr: {
                stage: _mapping(table).get("min_impact_ratio")
                for stage, table in stages.items()
                if isinstance(table, Mapping)
            }
            for attr, stages in attributes.items()
            if isinstance(stages, Mapping)
        }
    flags = raw.get("flags")
    if isinstance(flags, list):
        summary["flags"] = [dict(f) for f in flags[:20] if isinstance(f, Mapping)]
        summary["flagged"] = len(flags)
    return summary or {"figures": dict(raw)}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
