"""The evaluation report's words in English and Simplified Chinese (``report.html`` and ``report.zh.html``).

Training does not import the service, so the report keeps its own small catalogue, in the pages' style: each
language with its own punctuation. Figures, matcher names and column abbreviations are the same in both.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-CN"}
FILES = {"en": "report.html", "zh": "report.zh.html"}

# key -> (English, Chinese)
WORDS: dict[str, tuple[str, str]] = {
    "title": ("talentmatch evaluation", "talentmatch 离线评估报告"),
    "other_language": ("中文版", "English version"),
    "intro": (
        "Trained on events before {cut}; k = {k}. <em>vacancy</em>: ranking graduates for vacancies posted "
        "after the cut (cold start); <em>graduate</em>: ranking vacancies for graduates seeking at the cut. "
        "Relevance on <em>applications</em>: how far a pair went (applied ... hired); on <em>accepted "
        "outcomes</em>: the pairs the employer advanced (shortlisted ... hired).",
        "用 {cut} 之前的记录训练，取前 k = {k} 名评估。"
        "<em>岗位方向（@V）</em>：为截止时间之后发布的岗位给毕业生排序（冷启动）；<em>毕业生方向（@G）</em>：为截止时间仍在求职的毕业生给岗位排序。"
        "“投递”口径的相关性：配对走了多远（投递……录用）；“企业推进”口径：企业推进了的配对（入围……录用）。",
    ),
    "columns": (
        "Columns: ndcg = ranking quality NDCG@k; recall / precision at k; auc = separation; coverage = "
        "share appearing in some list; gini = concentration of exposure; congestion = first choices over the "
        "seats; A = accepted outcomes; @V / @G = the two directions.",
        "列说明：ndcg 为排序质量 NDCG@k；recall、precision 为前 k 名的召回率和准确率；auc 为区分能力；"
        "coverage 为出现在任一名单中的比例；gini 为曝光集中度；congestion 为首选超过名额的比例；"
        "A 表示企业推进口径；@V、@G 为两个方向。",
    ),
    "accepted_title": ("Accepted outcomes and calibration", "企业推进口径与校准"),
    "accepted_intro": (
        "ECE: expected calibration error of the score each matcher reports against realised success "
        "(applied, not declined, advanced by the employer) over every pair first seen after the cut; ties: "
        "share of adjacent equal scores in the top-20 lists.",
        "ECE：各匹配器给出的匹配度与实际成功（投递、未婉拒、被企业推进）之间的期望校准误差，"
        "按截止时间之后首次出现的全部配对计算；ties：前 20 名中与相邻一名得分相同的比例。",
    ),
    "plans_title": ("Placement plans on the ground truth", "按真实情况评估的安置方案"),
    "plans_intro": (
        "At the cut, {scope} (a seeded sample of programmes), each programme planned on its own with the "
        "matcher's scores over the vacancies open then. Plan success: expected successful placements (the "
        "true success probability summed over the plan's assignments) as a share of the best possible "
        "assignment; assignments succeeding: the share the employer would advance and the graduate would "
        "take.",
        "在截止时间，{scope}（按固定种子抽样的培养项目），"
        "每个项目各自用该匹配器的得分在当时的在招岗位上生成方案。"
        "方案成功率：方案中各安排的真实成功概率之和占最优安排的比例；"
        "安排成功率：企业会推进且毕业生会接受的安排所占比例。",
    ),
    "plans_columns": (
        "matcher|plan success|assignments succeeding|assigned|expected successes|best possible",
        "匹配器|方案成功率|安排成功率|已安排人数|预期成功人数|最优可达",
    ),
    "matcher": ("matcher", "匹配器"),
    "what": ("what", "说明"),
    "plain_text": ("Plain text", "纯文本表格"),
    "fairness_title": (
        "Fairness and exposure (the full model at the cut)",
        "公平性与曝光（截止时间的完整模型）",
    ),
    "rerank_title": ("Exposure-aware re-ranking, side by side", "考虑曝光的重排序，与默认排序对照"),
    "timings": ("Timings (s)", "耗时（秒）"),
    "figure": ("{name}", "图：{name}"),
    "figures_note": ("", "图中的坐标和图例为英文。"),
}

# What each matcher is, in Chinese (the English is training.report.MATCHERS).
MATCHERS_ZH = {
    "random": "随机顺序",
    "popularity": "最活跃的毕业生／投递最多的企业",
    "keyword": "掌握岗位必备技能的比例",
    "lightfm": "普通 LightFM 混合模型（毕业生作为用户），原始得分",
    "lightfm_norm": "双向 LightFM，得分按毕业生和岗位分别标准化",
    "no_lightfm": "不含 LightFM 的双边模型（只按技能覆盖检索）",
    "applied_target": "旧的单边目标：毕业生投递的可能性（消融实验）",
    "full": "双边模型：P(毕业生有意向) × P(企业推进)，已校准（正式使用的模型）",
    "full_rerank": "双边模型，按曝光重排序",
    "oracle": "理想排序（知道真实偏好）",
    "knowable": "可知上限（只用可观察的信息）",
}


def word(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` ("en" or "zh") with ``values`` filled in."""
    english, chinese = WORDS[key]
    text = chinese if lang == "zh" else english
    return text.format(**values) if values else text
