"""Words on the web pages, in Simplified Chinese (the default) and English.

Templates call ``t("key", **values)``; a key missing in a language falls back to the other, then to the
key itself, so a forgotten translation shows up as a readable key rather than an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

# key -> (Chinese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    # layout
    "app.name": ("绍兴集成电路人才匹配", "Shaoxing IC Talent Match"),
    "app.tagline": (
        "为订单班、培训项目和学历专业的毕业生匹配企业岗位",
        "Matching graduates of order classes, training programmes and degree tracks to vacancies",
    ),
    "nav.skip": ("跳到正文", "Skip to content"),
    "nav.home": ("首页", "Home"),
    "nav.main": ("主导航", "Main navigation"),
    "nav.vacancies": ("岗位", "Vacancies"),
    "nav.new_vacancy": ("发布岗位", "Post a vacancy"),
    "nav.programs": ("培养项目", "Programmes"),
    "nav.status": ("模型状态", "Model status"),
    "nav.signout": ("退出", "Sign out"),
    "nav.language": ("语言", "Language"),
    "nav.signed_in_as": ("当前身份：{who}", "Signed in as {who}"),
    "lang.switch": ("English", "中文"),
    "nav.footer": ("页脚", "Footer"),
    "nav.algorithm": ("算法公示", "How recommendations work"),
    # the algorithm notice and the model cards (service.usecases.notice)
    "notice.title": ("算法公示", "How recommendations work (algorithm notice)"),
    "notice.intro": (
        "本页依据《互联网信息服务算法推荐管理规定》和《个人信息保护法》公示本服务推荐算法的基本原理、目的和"
        "主要运行机制，说明如何关闭个性化推荐、如何对结果提出异议。无需登录即可查看。",
        "Under China's rules on algorithmic recommendation and the Personal Information Protection Law, this "
        "page publishes the basic principle, purpose and main mechanism of this service's recommendations, "
        "how to turn personalisation off and how to contest a result. No sign-in is needed.",
    ),
    "notice.settings": ("本服务当前设置", "This service's settings"),
    "notice.serving": ("在用模型版本", "Model version answering now"),
    "notice.no_model": ("尚无训练模型（按关键词匹配）", "No trained model yet (keyword matching)"),
    "notice.floor": ("推荐阈值（成功概率）", "Recommendation floor (success probability)"),
    "notice.rerank": ("曝光感知重排", "Exposure-aware re-ranking"),
    "notice.posting_check": ("岗位歧视性要求检查", "Check of postings for discriminatory requirements"),
    "notice.retention": ("已安置或退出的毕业生数据保留", "Placed or withdrawn graduates' data kept"),
    "notice.outcome_retention": ("录用等结果记录至少保留", "Recorded outcomes kept at least"),
    "notice.days": ("{n} 天", "{n} days"),
    "notice.models": ("模型版本与模型卡", "Model versions and their cards"),
    "notice.no_versions": ("尚无训练好的模型版本。", "No trained model version yet."),
    "notice.serving_badge": ("在用", "serving"),
    "notice.api_hint": (
        "同样的内容也以 JSON 提供：GET /api/v1/algorithm 和 GET /api/v1/models/{version}/card（无需密钥）。",
        "The same as JSON: GET /api/v1/algorithm and GET /api/v1/models/{version}/card (no key needed).",
    ),
    "notice.yes": ("是", "yes"),
    "notice.no": ("否", "no"),
    "card.title": ("模型卡：{version}", "Model card: {version}"),
    "card.back": ("返回算法公示", "Back to the algorithm notice"),
    "card.overview": ("概况", "Overview"),
    "card.created": ("训练时间", "Trained at"),
    "card.model": ("模型", "Model"),
    "card.intended_use": ("用途", "Intended use"),
    "card.intended_use.text": (
        "为岗位排序候选毕业生、为毕业生推荐岗位、为学校制定安置方案；只作建议，决定由人作出。",
        "Ranking graduates for a vacancy, suggesting vacancies to a graduate, planning a cohort's "
        "placements; suggestions only, decisions are people's.",
    ),
    "card.data": ("训练数据快照", "Training data snapshot"),
    "card.data.hint": (
        "训练数据不含性别、年龄、婚育、民族、户籍、健康、相貌等信息。",
        "The training data holds no gender, age, marital status, ethnicity, hukou, health or looks.",
    ),
    "card.metrics": ("时间外验证指标", "Metrics on later events (time-based holdout)"),
    "card.metric": ("指标", "Metric"),
    "card.not_measured": ("此版本未记录。", "Not recorded for this version."),
    "card.calibration": ("校准", "Calibration"),
    "card.calibration.hint": (
        "ECE：分数与实际成功比例的平均差距；下表按分数等量分箱比较预测和实际。",
        "ECE: the average gap between the score and the observed success share; the table compares them "
        "per equal-size bin of scores.",
    ),
    "card.pairs": ("{n} 对", "{n} pairs"),
    "card.bin": ("分箱", "Bin"),
    "card.predicted": ("平均分数", "Mean score"),
    "card.observed": ("实际成功比例", "Observed success"),
    "card.count": ("配对数", "Pairs"),
    "card.fairness": ("公平性", "Fairness"),
    "card.no_fairness": (
        "此版本的清单中没有公平性数据；可运行 talentmatch fairness 生成报告。",
        "This version's manifest carries no fairness figures; talentmatch fairness produces the report.",
    ),
    "card.coverage": ("覆盖率（进入推荐前列的求职毕业生比例）", "Coverage (seeking graduates in a top list)"),
    "card.flagged": ("低于五分之四的群体", "Groups below four-fifths"),
    "card.attribute": ("分组", "Grouped by"),
    "card.min_impact_ratio": ("最低影响比（各阶段）", "Lowest impact ratio (per stage)"),
    "card.gate": ("上线审核", "Promotion gate"),
    "card.gate.passed": ("通过", "Passed"),
    "card.gate.promote": ("上线", "Promoted"),
    "card.configuration": ("配置", "Configuration"),
    "card.selection": ("配置搜索", "Configuration search"),
    "role.admin": ("管理员", "Administrator"),
    "role.hr": ("企业人事", "HR"),
    "role.school": ("学校就业办", "Placement office"),
    # sign-in
    "signin.title": ("登录", "Sign in"),
    "signin.intro": (
        "请输入管理员为您发放的 API 密钥。密钥只在登录时核对一次，不会保存："
        "浏览器只收到一个签名的 Cookie，其中是服务器端会话的随机编号；"
        "退出、闲置超时或密钥被吊销后会话即失效。",
        "Enter the API key your administrator gave you. The key is checked once and not kept: your browser "
        "gets a signed cookie holding only the random id of a session stored on the server, which ends when "
        "you sign out, after a period without use, or when the key is revoked.",
    ),
    "signin.key": ("API 密钥", "API key"),
    "signin.submit": ("登录", "Sign in"),
    "signin.empty": ("请输入 API 密钥。", "Please enter an API key."),
    "signin.wrong": (
        "密钥无效或已被吊销，请检查后重试。",
        "This key is unknown or has been revoked. Please check it and try again.",
    ),
    "signin.signed_out": ("您已退出。", "You have signed out."),
    "signin.expired": ("请先登录。", "Please sign in first."),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.back_home": ("返回首页", "Back to the home page"),
    "error.404.title": ("找不到页面", "Page not found"),
    "error.404.body": (
        "您要找的内容不存在，或者您没有权限查看。",
        "What you are looking for does not exist, or you may not see it.",
    ),
    "error.403.title": ("无权访问", "Not allowed"),
    "error.403.body": ("您的角色不能使用这个页面。", "Your role cannot use this page."),
    "error.401.title": ("请先登录", "Please sign in"),
    "error.401.body": ("您的会话已失效，请重新登录。", "Your session has ended; please sign in again."),
    "error.csrf.title": ("表单已过期", "The form has expired"),
    "error.csrf.body": (
        "为保护您的账户，这个表单不能提交。请返回上一页刷新后重试。",
        "To protect your account this form could not be sent. Go back, reload the page and try again.",
    ),
    "error.model.title": ("模型尚未就绪", "The model is not ready"),
    "error.model.body": (
        "匹配模型还没有训练或加载，请稍后再试或联系管理员。",
        "The matching model has not been trained or loaded yet. Try again later or ask an administrator.",
    ),
    "error.conflict.title": ("无法完成操作", "This cannot be done"),
    "error.500.title": ("服务器出错", "Server error"),
    "error.500.body": (
        "服务器处理请求时出错，我们已记录此问题。请稍后再试。",
        "The server could not handle this request; the problem was logged. Please try again later.",
    ),
    "error.429.title": ("操作过于频繁", "Too many requests"),
    "error.429.body": (
        "您的账号在一分钟内的操作次数已达上限，请稍后再试。",
        "Your key has reached its limit of actions a minute; please try again shortly.",
    ),
    "error.400.title": ("请求无效", "Bad request"),
    "error.400.body": ("请求中的数据无效。", "The request contained invalid data."),
    # HR: vacancy list
    "hr.vacancies.title": ("本企业岗位", "Our vacancies"),
    "hr.vacancies.empty": ("还没有岗位。", "No vacancies yet."),
    "hr.vacancies.filter": ("状态筛选", "Filter by status"),
    "hr.vacancies.all": ("全部", "All"),
    "hr.vacancies.apply": ("筛选", "Filter"),
    "col.title": ("岗位名称", "Title"),
    "col.role": ("职位类别", "Role"),
    "col.district": ("地区", "District"),
    "col.headcount": ("招聘人数", "Headcount"),
    "col.status": ("状态", "Status"),
    "col.posted_at": ("发布时间", "Posted"),
    "col.closes_at": ("截止日期", "Closes"),
    "col.actions": ("操作", "Actions"),
    "col.skills": ("技能", "Skills"),
    "col.enterprise": ("企业", "Enterprise"),
    "col.score": ("匹配度", "Match"),
    # What 匹配度 means, on every page that shows one (the API's `score`, word for word in meaning).
    "score.legend": (
        "匹配度：预计双方达成的可能性（毕业生投递且不拒绝，企业推进到入围及以后）",
        "Match: the estimated chance that this pairing succeeds (the graduate applies and does not decline, "
        "and the employer advances them to an interview or beyond)",
    ),
    "col.graduate": ("毕业生", "Graduate"),
    "col.vacancy": ("岗位", "Vacancy"),
    "col.program": ("培养项目", "Programme"),
    "col.school": ("学校", "School"),
    "col.education": ("学历", "Education"),
    "col.kind": ("类型", "Kind"),
    "col.cohort": ("届别", "Cohort"),
    "col.sponsor": ("合作企业", "Sponsor"),
    "col.graduates": ("毕业生人数", "Graduates"),
    "col.seeking": ("求职中", "Seeking"),
    "col.reason": ("原因", "Reason"),
    "col.alternatives": ("备选岗位", "Alternatives"),
    "col.salary": ("月薪（元）", "Salary (CNY/month)"),
    "hr.hired_of": ("已录用 {hired} / {headcount}", "hired {hired} of {headcount}"),
    "col.hired_headcount": ("已录用 / 招聘人数", "Hired / headcount"),
    "hr.candidates.link": ("查看候选人", "Candidates"),
    "hr.close": ("关闭岗位", "Close vacancy"),
    "hr.closed_ok": ("岗位已关闭。", "The vacancy is closed."),
    "pager.prev": ("上一页", "Previous"),
    "pager.next": ("下一页", "Next"),
    "pager.range": ("第 {first}–{last} 条，共 {total} 条", "{first}–{last} of {total}"),
    # HR: new vacancy
    "hr.new.title": ("发布岗位", "Post a vacancy"),
    "hr.new.intro": (
        "粘贴岗位描述后点击“提取技能”，系统会识别其中的技能，您可以确认或修改后再保存。",
        "Paste the job description and press “Extract skills”; confirm or edit the skills found, then save.",
    ),
    "field.title": ("岗位名称", "Title"),
    "field.role": ("职位类别", "Role"),
    "field.description": ("岗位描述", "Description"),
    "field.description.hint": (
        "例如：熟悉引线键合和倒装焊工艺，有SPC经验",
        "e.g. Familiar with wire bonding and flip-chip processes; SPC experience (Chinese or English)",
    ),
    "field.min_education": ("最低学历", "Minimum education"),
    "field.district": ("工作地区", "District"),
    "field.headcount": ("招聘人数", "Headcount"),
    "field.salary_min": ("最低月薪（元）", "Salary from (CNY/month)"),
    "field.salary_max": ("最高月薪（元）", "Salary to (CNY/month)"),
    "field.closes_at": ("截止日期", "Closing date"),
    "field.enterprise": ("企业", "Enterprise"),
    "field.required_skills": ("必备技能", "Required skills"),
    "field.preferred_skills": ("优先技能", "Preferred skills"),
    "field.add_skills": (
        "添加技能（技能编号、中文或英文名，用逗号分隔）",
        "Add skills (ids or names, comma-separated)",
    ),
    "field.optional": ("（选填）", "(optional)"),
    "hr.new.extract": ("提取技能", "Extract skills"),
    "hr.new.save": ("保存岗位", "Save vacancy"),
    "hr.new.extracted": (
        "从描述中识别出以下技能。取消勾选可去掉某项技能；勾选“优先”表示非必备。",
        "These skills were found in the description. Untick a skill to drop it; "
        "tick “preferred” if it is not required.",
    ),
    "hr.new.none_found": (
        "没有从描述中识别出技能，请在下方添加。",
        "No skills were found in the description; add them below.",
    ),
    "hr.new.keep": ("保留", "keep"),
    "hr.new.preferred": ("优先", "preferred"),
    "hr.new.saved": ("岗位已保存，以下是推荐的候选人。", "The vacancy is saved; here are its candidates."),
    "hr.new.fix_errors": ("请修改标出的字段。", "Please correct the fields marked below."),
    "hr.new.saved_with_warnings": (
        "岗位已保存，但文字中仍有可能构成就业歧视的要求（见下方标出的文字），请修改。",
        "The vacancy is saved, but its text still states requirements that may discriminate (marked below); "
        "please edit them.",
    ),
    # discriminatory requirements in a posting (service.usecases.posting_check)
    "posting.title": ("发现 {n} 处可能构成就业歧视的要求", "{n} requirement(s) that may discriminate"),
    "posting.intro": (
        "招聘不得限定性别、婚育、民族、户籍，不得排斥乙肝病原携带者；年龄、身高、相貌等要求须为岗位所必需。"
        "请修改标出的文字后再保存。",
        "A posting may not restrict gender, marriage or childbirth, ethnicity or hukou, nor exclude "
        "hepatitis B carriers; age, height or looks only where the work needs them. Please edit the "
        "marked text.",
    ),
    "posting.refuse": (
        "按本服务的设置，含有这些要求的岗位不能保存：请修改标出的文字。",
        "This service refuses postings with these requirements: edit the marked text to save.",
    ),
    "posting.refused": (
        "岗位未保存：文字中含有可能构成就业歧视的要求。",
        "The vacancy was not saved: its text states requirements that may discriminate.",
    ),
    "posting.code.gender": ("性别", "Gender"),
    "posting.code.marriage_childbirth": ("婚育状况", "Marriage and childbirth"),
    "posting.code.age": ("年龄", "Age"),
    "posting.code.ethnicity": ("民族", "Ethnicity"),
    "posting.code.origin": ("户籍或籍贯", "Hukou or place of origin"),
    "posting.code.appearance": ("身高、体重或相貌", "Height, weight or looks"),
    "posting.code.health_status": ("健康状况", "Health status"),
    "valid.required": ("此项必填。", "This field is required."),
    "valid.too_long": ("最多 {n} 个字。", "At most {n} characters."),
    "valid.int": ("请输入整数。", "Please enter a whole number."),
    "valid.positive": ("必须大于 0。", "Must be greater than 0."),
    "valid.range": ("必须在 {lo} 到 {hi} 之间。", "Must be between {lo} and {hi}."),
    "valid.date": ("请输入日期，格式 YYYY-MM-DD。", "Please enter a date as YYYY-MM-DD."),
    "valid.choice": ("请选择一项。", "Please choose one."),
    "valid.unknown_skills": ("未知技能：{names}", "Unknown skills: {names}"),
    "valid.no_skills": ("至少需要一项技能。", "At least one skill is needed."),
    "valid.raw": ("{message}", "{message}"),
    "valid.number01": ("请输入 0 到 1 之间的数。", "Please enter a number between 0 and 1."),
    "valid.percent": (
        "请输入 0 到 100 之间的百分数，例如 30 或 30%。",
        "Please enter a percentage from 0 to 100, e.g. 30 or 30%.",
    ),
    "valid.file_too_big": ("文件不能超过 {n} MB。", "The file may be at most {n} MB."),
    # HR side (vacancies and outcomes, issue 13): hidden characters, reopening, outcomes refused.
    "valid.hidden_chars_line": (
        "须为单行文字，不能包含控制字符或文字方向控制字符（如 U+202E）。",
        "Must be a single line without control or text-direction characters (e.g. U+202E).",
    ),
    "valid.hidden_chars": (
        "不能包含控制字符或文字方向控制字符（如 U+202E）；换行和制表符可以保留。",
        "Must not contain control or text-direction characters (e.g. U+202E); line breaks and tabs are fine.",
    ),
    "hr.reopen": ("重新开放岗位", "Reopen vacancy"),
    "hr.reopened_ok": ("岗位已重新开放。", "The vacancy is open again."),
    "hr.reopen.filled": (
        "岗位已招满，不能重新开放。",
        "The vacancy is filled (every seat taken) and cannot reopen.",
    ),
    "hr.reopen.past_closing_date": (
        "岗位的截止日期已过，不能重新开放；请发布新岗位。",
        "The vacancy's closing date has passed, so it cannot reopen; post a new vacancy instead.",
    ),
    "hr.outcome.unknown_graduate": (
        "找不到毕业生“{graduate}”：只能为该岗位的候选人或已有进展记录的毕业生记录进展。",
        "Graduate '{graduate}' not found: outcomes are recorded for this vacancy's candidates and "
        "graduates already in its pipeline.",
    ),
    "hr.outcome.closed": (
        "岗位已关闭或已招满，不能再记录进展。",
        "The vacancy is closed or filled and takes no more outcomes.",
    ),
    "hr.outcome.not_seeking": (
        "毕业生“{graduate}”已不在求职中，不能录用。",
        "Graduate '{graduate}' is no longer seeking and cannot be hired.",
    ),
    # Confirmation, reopening and undo (issue 15): nothing important happens in one unguarded click.
    "hr.confirm.vacancy": (
        "岗位“{title}”：已录用 {hired} / {headcount} 人。",
        "Vacancy “{title}”: {hired} of {headcount} hired.",
    ),
    "hr.confirm.cancel": ("取消", "Cancel"),
    "hr.confirm.close.title": ("确认关闭岗位“{title}”？", "Close the vacancy “{title}”?"),
    "hr.confirm.close.body": (
        "关闭后，该岗位不再出现在毕业生的岗位建议中，也不能再记录进展；已记录的进展和录用仍然保留。"
        "截止日期之前可以重新开放。",
        "Once closed it leaves graduates' suggestions and takes no more outcomes; the outcomes and hires "
        "recorded stay. It can be reopened until its closing date.",
    ),
    "hr.confirm.close.yes": ("确认关闭", "Close the vacancy"),
    "hr.confirm.hire.title": ("确认录用毕业生 {graduate}？", "Hire graduate {graduate}?"),
    "hr.confirm.hire.body": (
        "录用后该毕业生将标记为已就业，不再作为任何岗位的候选人；名额用满时岗位自动变为已招满。"
        "如有误，可在 {minutes} 分钟内撤销。",
        "The graduate will be marked as placed and leave every vacancy's candidates; when every seat is "
        "taken the vacancy becomes filled. A mistake can be undone within {minutes} minutes.",
    ),
    "hr.confirm.hire.yes": ("确认录用", "Confirm the hire"),
    "hr.reopen.hint": (
        "截止日期之前可以重新开放，候选人会重新出现。",
        "It can be reopened until its closing date; its candidates come back.",
    ),
    "hr.reopen.headcount": ("新的招聘人数", "New headcount"),
    "hr.reopen.filled_hint": (
        "已录用 {hired} 人。填写大于已录用人数的招聘人数即可重新开放。",
        "{hired} hired. Enter a headcount above the hires to open it again.",
    ),
    "hr.reopen.headcount_invalid": (
        "招聘人数须为 1 到 {max} 之间的整数。",
        "The headcount must be a whole number from 1 to {max}.",
    ),
    "hr.hires.title": ("已录用：", "Hired:"),
    "hr.outcomes.title": ("已记录的进展（{n} 名毕业生）", "Recorded outcomes ({n} graduates)"),
    "hr.outcomes.recorded": ("进展与时间（UTC）", "Outcomes and when (UTC)"),
    "hr.outcomes.empty": ("还没有记录任何进展。", "No outcomes recorded yet."),
    "hr.undo.button": ("撤销“{event}”", "Undo “{event}”"),
    "hr.undo.button_label": ("撤销 {graduate} 的“{event}”", "Undo “{event}” for {graduate}"),
    "hr.undo.hint": (
        "记录后 {minutes} 分钟内可以撤销；撤销录用会释放名额，毕业生恢复为求职中。撤销会记入审计日志。",
        "An outcome can be undone within {minutes} minutes of recording it; undoing a hire gives the seat "
        "back and the graduate seeks again. Undoing is written to the audit log.",
    ),
    "hr.undo.done": ("已撤销：{graduate} {event}。", "Undone: {graduate} {event}."),
    "hr.undo.unknown": (
        "没有可撤销的记录：{graduate} {event}。",
        "Nothing to undo: {graduate} {event} is not recorded.",
    ),
    "hr.undo.expired": (
        "已超过 {minutes} 分钟，不能撤销 {graduate} {event}。",
        "More than {minutes} minutes have passed; {graduate} {event} can no longer be undone.",
    ),
    "hr.enterprise": ("企业：{name}", "Enterprise: {name}"),
    "label.colon": ("{label}：", "{label}: "),
    "list.sep": ("、", ", "),
    "school.placed": ("已就业毕业生", "Placed graduates"),
    "school.placed.title": ("已就业毕业生：{name}", "Placed graduates: {name}"),
    "school.placed.intro": (
        "通过本平台被企业录用的本项目毕业生，以及录用的岗位和企业（最近的在前）。",
        "Graduates of this programme hired through the service, with the vacancy and enterprise "
        "(latest first).",
    ),
    "school.placed.empty": (
        "还没有毕业生通过本平台被录用。",
        "No graduate has been hired through the service yet.",
    ),
    "col.hired_at": ("录用时间（UTC）", "Hired (UTC)"),
    # HR: candidates
    "hr.candidates.title": ("候选人：{title}", "Candidates: {title}"),
    "hr.candidates.summary": (
        "{district} · 招聘 {headcount} 人 · 学历要求 {education} 及以上",
        "{district} · {headcount} to hire · {education} or above",
    ),
    "hr.candidates.empty": ("暂时没有符合条件的候选人。", "No candidates match yet."),
    "hr.candidates.matched": ("已具备", "Has"),
    "hr.candidates.missing": ("欠缺", "Missing"),
    "hr.candidates.reasons": ("推荐理由", "Why"),
    "hr.candidates.record": ("记录进展：", "Record:"),
    "hr.candidates.recorded": ("已记录：{graduate} {event}。", "Recorded: {graduate} {event}."),
    "hr.candidates.history": ("已记录", "Recorded"),
    "hr.candidates.filters": ("筛选候选人", "Filter candidates"),
    "hr.candidates.model": ("模型版本 {version}", "Model version {version}"),
    "hr.candidates.none_above": (
        "暂时没有候选人达到推荐下限（匹配度 {floor}）。",
        "No candidate reaches the recommendation floor ({floor} match) yet.",
    ),
    "hr.candidates.others": ("其他毕业生（{n} 名）", "Other graduates ({n})"),
    "hr.candidates.others_hint": (
        "匹配度低于 {floor}，不作为推荐。",
        "Below {floor} match: not recommendations.",
    ),
    "hr.candidates.others_shown": (
        "仅显示前 {shown} 名，共 {n} 名。",
        "Showing the first {shown} of {n}.",
    ),
    "hr.required_skills": ("必备技能", "Required skills"),
    "hr.preferred_skills": ("优先技能", "Preferred skills"),
    "filter.district": ("地区", "District"),
    "filter.program_kind": ("项目类型", "Programme kind"),
    "filter.any": ("不限", "Any"),
    "filter.apply": ("应用筛选", "Apply"),
    "filter.min_score": ("最低匹配度（%）", "Minimum match (%)"),
    "filter.min_score.hint": (
        "默认 {default}：成功可能性低于此值的安排不予采用，毕业生留待培训或其他机会。",
        "Default {default}: a pairing less likely than this to succeed is not planned; the graduate is left "
        "for training or other openings.",
    ),
    "filter.scope_school": (
        "与本校其他项目统筹安排（同一岗位名额不重复占用）",
        "Plan with the school's other programmes (no seat counted twice)",
    ),
    # school
    "school.programs.title": ("本校培养项目", "Our programmes"),
    "school.programs.empty": ("还没有培养项目。", "No programmes yet."),
    "school.placement": ("安置方案", "Placement plan"),
    "school.gaps": ("技能缺口", "Skill gaps"),
    "school.graduates": ("毕业生", "Graduates"),
    "school.placement.title": ("安置方案：{name}", "Placement plan: {name}"),
    "school.placement.intro": (
        "为每位求职中的毕业生最多安排一个岗位，任何岗位都不会超过其剩余招聘人数；订单班优先满足合作企业。",
        "Each seeking graduate gets at most one vacancy and no vacancy gets more than its remaining "
        "headcount; order classes fill their sponsor's vacancies first.",
    ),
    "school.placement.assigned": ("已安排（{n}）", "Assigned ({n})"),
    "school.placement.unassigned": ("未安排（{n}）", "Not assigned ({n})"),
    "school.placement.none_unassigned": ("所有求职毕业生都已安排。", "Every seeking graduate is assigned."),
    "school.placement.none": ("没有可安排的毕业生。", "No graduates to place."),
    "school.placement.headcount": ("岗位名额使用", "Headcount use per vacancy"),
    "school.placement.seats": ("已用 / 剩余名额", "Seats used / remaining"),
    "school.placement.suggestions": ("岗位建议", "Suggestions"),
    "metric.coverage": ("覆盖率", "Coverage"),
    "metric.mean_score": ("平均匹配度", "Mean match"),
    "metric.headcount_used": ("占用名额", "Seats used"),
    "metric.congestion_vs_top1": ("拥挤度（对比各自首选）", "Congestion vs. each one's top choice"),
    "metric.congestion": (
        "单一岗位最多人数：方案 / 各自首选",
        "Most graduates sent to one vacancy: plan / everyone's top choice",
    ),
    "school.placement.training": ("建议培训", "Training that would help"),
    "school.placement.taught_by": ("由 {programs} 讲授", "taught by {programs}"),
    "school.placement.not_taught": ("暂无培训项目讲授", "no training programme teaches it yet"),
    "alt.full": ("名额已满", "full"),
    "alt.below_min_score": ("低于最低匹配度", "below the minimum match"),
    "alt.available": ("仍有名额", "seats left"),
    "chart.coverage": ("覆盖率与名额使用", "Coverage and headcount use"),
    "chart.assigned": ("已安排", "assigned"),
    "chart.unassigned": ("未安排", "not assigned"),
    "chart.used": ("已用", "used"),
    "chart.free": ("剩余", "free"),
    "chart.demanded": ("岗位需求占比", "Share of vacancies requiring it"),
    "chart.held": ("毕业生掌握占比", "Share of the cohort holding it"),
    "school.graduate.title": ("岗位建议：{graduate}", "Job suggestions: {graduate}"),
    "school.graduate.profile": ("{program} · {education} · {major}", "{program} · {education} · {major}"),
    "school.graduate.empty": ("暂时没有合适的在招岗位。", "No open vacancy suits this graduate yet."),
    "school.graduate.none_above": (
        "暂时没有岗位达到推荐下限（匹配度 {floor}）。",
        "No open vacancy reaches the recommendation floor ({floor} match) yet.",
    ),
    "school.graduate.others": ("其他岗位（{n} 个）", "Other vacancies ({n})"),
    "school.graduate.others_shown": ("仅显示前 {shown} 个，共 {n} 个。", "Showing the first {shown} of {n}."),
    "school.graduate.others_hint": (
        "匹配度低于 {floor}，不作为推荐。",
        "Below {floor} match: not recommendations.",
    ),
    "school.graduate.districts": ("意向地区", "Preferred districts"),
    "school.gaps.title": ("技能缺口：{name}", "Skill gaps: {name}"),
    "school.gaps.intro": (
        "适合本项目的在招岗位最常要求、但本项目毕业生较少掌握的技能，以及讲授这些技能的培训项目。",
        "Skills most demanded by open vacancies suited to this programme that few of its graduates hold, "
        "and the training programmes that teach them.",
    ),
    "school.gaps.basis": (
        "依据 {vacancies} 个适合本项目的在招岗位（领域：{segments}）和 {cohort} 名毕业生。",
        "Based on {vacancies} open vacancies suiting the programme (segments: {segments}) "
        "and {cohort} graduates.",
    ),
    "school.gaps.in_curriculum": ("已在课程中", "in curriculum"),
    "school.gaps.empty": ("没有明显的技能缺口。", "No notable skill gaps."),
    "school.gaps.taught_by": ("可参加的培训项目", "Taught by"),
    "school.gaps.none_teach": ("暂无培训项目", "No programme yet"),
    "school.graduates.title": ("毕业生：{name}", "Graduates: {name}"),
    "school.import.title": ("导入毕业生（Excel 或 CSV）", "Import graduates (Excel or CSV)"),
    "school.import.file": ("毕业生文件（.xlsx 或 .csv）", "Graduates file (.xlsx or .csv)"),
    "school.import.hint": (
        "按模板填写，可直接写中文（如 大专、求职中、引线键合、2026/7/1）；CSV 可为 UTF-8 或 GB18030 编码，"
        "最大 1 MB。先预览，确认后才写入；任何一行有误都不会导入。",
        "Fill in the template; Chinese values are fine (大专, 求职中, 引线键合, 2026/7/1). A CSV may be "
        "UTF-8 or GB18030, at most 1 MB. You see a preview first and nothing is written until you confirm; a "
        "single bad row stops the whole import.",
    ),
    # Uploads in two steps (issue 15): check and preview, then confirm; templates and Excel downloads.
    "upload.template": (
        "下载 Excel 模板（含示例和下拉选项）",
        "Download the Excel template (example row and drop-down lists)",
    ),
    "upload.check": ("上传并预览", "Upload and preview"),
    "upload.fix_and_retry": ("修改文件后重新上传", "Fix the file and upload it again"),
    "upload.more": ("另有 {n} 处问题未列出。", "{n} more problems are not listed."),
    "upload.empty": (
        "文件为空：请上传含表头和数据行的 .xlsx 或 .csv 文件。",
        "The file is empty: upload an .xlsx or .csv file with a header row and data rows.",
    ),
    "upload.expired": (
        "预览已失效或被改动，未写入任何数据；请重新上传文件。",
        "The preview has expired or was altered; nothing was written. Please upload the file again.",
    ),
    "upload.enterprise_required": (
        "请填写岗位所属企业的编号。",
        "Please enter the enterprise the vacancies are for.",
    ),
    "upload.enterprise_unknown": ("找不到该企业。", "No such enterprise."),
    "upload.preview.title": ("导入预览", "Import preview"),
    "upload.preview.summary": (
        "将新增 {added} 条，更新 {updated} 条，{unchanged} 条不变。",
        "{added} to add, {updated} to update, {unchanged} unchanged.",
    ),
    "upload.preview.intro": (
        "尚未写入任何数据。请核对下表，确认无误后点击“确认导入”；全部写入或全部不写入。",
        "Nothing has been written yet. Check the rows below, then press “Confirm import”; all rows are "
        "written or none.",
    ),
    "upload.preview.more": ("另有 {n} 行未列出。", "{n} more rows are not listed."),
    "upload.preview.posting": (
        "以下岗位文字可能含有歧视性要求，请修改后再导入：",
        "These vacancy texts may state discriminatory requirements; please edit them before importing:",
    ),
    "upload.preview.posting_row": ("第 {row} 行：“{text}”，{message}", "Row {row}: '{text}', {message}"),
    "upload.confirm": ("确认导入", "Confirm import"),
    "upload.cancel": ("取消", "Cancel"),
    "upload.sep": ("、", ", "),
    "upload.col.row": ("行号", "Row"),
    "upload.col.action": ("操作", "Change"),
    "upload.col.available_from": ("可入职日期", "Available from"),
    "upload.action.add": ("新增", "add"),
    "upload.action.update": ("更新", "update"),
    "upload.action.unchanged": ("不变", "unchanged"),
    "export.placement": ("下载安置方案（Excel）", "Download the plan (Excel)"),
    "export.shortlist": ("下载候选人名单（Excel）", "Download the shortlist (Excel)"),
    "hr.import.link": ("批量导入岗位", "Import vacancies"),
    "hr.import.title": ("批量导入岗位（Excel 或 CSV）", "Import vacancies (Excel or CSV)"),
    "hr.import.intro": (
        "每行一个岗位：岗位编号留空为新增，填写本企业在招岗位的编号则更新该岗位；必备和优先技能都留空时，"
        "系统从岗位名称和描述中提取技能。",
        "One vacancy per row: leave vacancy_id empty to add one, or give one of your open vacancies' ids to "
        "update it. With both skill columns empty, the skills are extracted from the title and description.",
    ),
    "hr.import.file": ("岗位文件（.xlsx 或 .csv）", "Vacancies file (.xlsx or .csv)"),
    "hr.import.hint": (
        "可直接写中文（如 大专、引线键合、2027年3月31日）；CSV 可为 UTF-8 或 GB18030 编码，最大 1 MB。"
        "先预览，确认后才写入。",
        "Chinese values are fine (大专, 引线键合, 2027年3月31日). A CSV may be UTF-8 or GB18030, at most "
        "1 MB. You see a preview first and nothing is written until you confirm.",
    ),
    "hr.import.failed": ("文件有误，未导入任何岗位：", "The file has problems; no vacancy was imported:"),
    "hr.import.done": (
        "已导入：新增 {added} 个岗位，更新 {updated} 个。",
        "Imported: {added} vacancies added, {updated} updated.",
    ),
    "school.import.submit": ("上传并导入", "Upload and import"),
    "school.import.done": (
        "已导入：新增 {added}，更新 {updated}。",
        "Imported: {added} added, {updated} updated.",
    ),
    "school.import.failed": ("文件有误，未导入任何数据：", "The file has problems; nothing was imported:"),
    # School side (graduates upload, issue 13): an empty file, a programme over its size cap.
    "school.import.empty": (
        "文件“{field}”为空：请上传含表头和至少一名毕业生的 graduates.csv。",
        "The file '{field}' is empty: upload a graduates.csv with a header line and at least one graduate.",
    ),
    "school.import.full": (
        "导入后该项目将有 {would_have} 名毕业生，超过每个项目最多 {limit} 名的上限"
        "（TALENTMATCH_MAX_PROGRAM_GRADUATES），未导入任何数据。",
        "The programme would have {would_have} graduates, over the cap of {limit} per programme "
        "(TALENTMATCH_MAX_PROGRAM_GRADUATES); nothing was imported.",
    ),
    "school.erase": ("删除该毕业生的全部数据", "Erase all of this graduate's data"),
    "school.erase.hint": (
        "按个人信息保护要求删除：毕业生及其全部记录立即从匹配结果中消失，下次训练也不再使用。",
        "Erasure on request (PIPL): the graduate and every record of them leave all answers at once "
        "and the next trained model.",
    ),
    "school.erase.confirm": ("确认删除 {graduate} 的全部数据", "I confirm erasing all data of {graduate}"),
    "school.erase.unconfirmed": ("请先勾选确认。", "Please tick the confirmation first."),
    "school.erased": ("已删除毕业生 {graduate} 的全部数据。", "All data of graduate {graduate} was erased."),
    # admin
    "admin.title": ("模型与数据状态", "Model and data status"),
    "admin.current": ("当前模型", "Current model"),
    "admin.no_model": (
        "还没有训练好的模型。运行 talentmatch train。",
        "No trained model yet. Run talentmatch train.",
    ),
    "admin.version": ("版本", "Version"),
    "admin.trained_at": ("训练时间", "Trained at"),
    "admin.metrics": ("评估指标", "Metrics"),
    "admin.versions": ("历史版本", "Versions"),
    "admin.is_current": ("当前", "current"),
    "admin.counts": ("数据量", "Data counts"),
    "admin.data_version": ("数据版本号", "Data version"),
    "admin.serving": ("服务中的模型", "Serving"),
    "admin.reload": ("立即检查新模型", "Check for a new model now"),
    "admin.reloaded": ("已加载新的当前模型。", "The new current model is loaded."),
    "admin.unchanged": ("当前模型没有变化。", "The current model has not changed."),
    "admin.previous": ("上一版", "previous"),
    "admin.serving_badge": ("服务中", "serving"),
    "admin.gate": ("质量门槛", "Gate"),
    "admin.gate.passed": ("通过", "passed"),
    "admin.gate.failed": ("未通过", "failed"),
    "admin.problem": ("问题", "Problem"),
    "admin.audit.at": ("时间", "At"),
    "admin.audit.key": ("密钥", "Key"),
    "admin.audit.action": ("操作", "Action"),
    "admin.audit.resource": ("对象", "Resource"),
    "admin.latest_event": ("最新事件时间", "Latest event"),
    "admin.matcher": ("模型", "Matcher"),
    # Admin page, readable (issue 15): metrics named and explained, the audit with names, paging, filters.
    "admin.metrics.intro": (
        "在训练时留出的最近一段时间的真实记录上评估（模型没有见过这些记录）。数值越高越好，校准误差除外。",
        "Measured on the most recent records, held out from training (the model never saw them). Higher is "
        "better, except the calibration error.",
    ),
    "admin.metrics.metric": ("指标", "Metric"),
    "admin.metrics.all": ("全部指标（{n} 项）", "All metrics ({n})"),
    "admin.metrics.meaning": ("含义", "What it means"),
    "admin.gate.help": (
        "质量门槛：新模型不比当前模型差太多时才会上线。",
        "Gate: a new model goes live only if it is not much worse than the current one.",
    ),
    "admin.audit.title": ("审计日志", "Audit log"),
    "admin.audit.showing": ("共 {total} 条，第 {first}–{last} 条", "{first}–{last} of {total}"),
    "admin.audit.none": ("没有符合条件的记录。", "No entries match."),
    "admin.audit.who": ("操作者（密钥）", "Who (key)"),
    "admin.audit.what": ("操作", "What"),
    "admin.audit.since": ("起始日期", "From"),
    "admin.audit.until": ("截止日期", "To"),
    "admin.audit.anyone": ("所有人", "Anyone"),
    "admin.audit.anything": ("所有操作", "Any action"),
    "admin.audit.filter": ("筛选审计日志", "Filter the audit log"),
    "admin.audit.detail": ("详情", "Detail"),
    "admin.audit.unknown_key": ("已删除的密钥 {key}", "deleted key {key}"),
    "quality.qualified": ("{label}（{notes}）", "{label} ({notes})"),
    "quality.accepted": ("按企业推进计", "employer-advanced"),
    "quality.direction.vacancy": ("为岗位排毕业生", "graduates for a vacancy"),
    "quality.direction.graduate": ("为毕业生排岗位", "vacancies for a graduate"),
    "quality.ndcg": ("排序质量 NDCG@10", "Ranking quality (NDCG@10)"),
    "quality.ndcg.help": (
        "后来真正发生的投递和录用排在前 10 名中越靠前，得分越高（0 到 1）。",
        "How high the pairings that really happened afterwards rank in the top 10 (0 to 1).",
    ),
    "quality.recall": ("召回率@10", "Recall at 10"),
    "quality.recall.help": (
        "后来真正发生的配对中，出现在前 10 名里的比例。",
        "Share of the pairings that really happened that appear in the top 10.",
    ),
    "quality.precision": ("准确率@10", "Precision at 10"),
    "quality.precision.help": (
        "前 10 名中后来真正发生配对的比例。",
        "Share of the top 10 that really became pairings.",
    ),
    "quality.auc": ("区分能力 AUC", "Separation (AUC)"),
    "quality.auc.help": (
        "随机取一个真实配对和一个未发生的配对，前者得分更高的概率（0.5 相当于随机）。",
        "The chance that a real pairing scores above one that did not happen (0.5 is chance).",
    ),
    "quality.coverage": ("覆盖率", "Coverage"),
    "quality.coverage.help": (
        "至少出现在一份推荐名单中的岗位或毕业生的比例。",
        "Share of vacancies or graduates that appear in at least one recommendation list.",
    ),
    "quality.gini": ("曝光集中度（基尼系数）", "Exposure concentration (Gini)"),
    "quality.gini.help": (
        "推荐机会是否集中在少数人或岗位上：0 表示完全均匀，1 表示全部集中。",
        "Whether recommendations go to a few: 0 is perfectly even, 1 is all to one.",
    ),
    "quality.congestion": ("拥挤度", "Congestion"),
    "quality.congestion.help": (
        "首选超过名额的比例：越低越好。",
        "Share of first choices that exceed the seats: lower is better.",
    ),
    "quality.ties": ("并列比例", "Tied scores"),
    "quality.ties.help": (
        "前 20 名中得分与相邻一名相同的比例：越低越好。",
        "Share of the top 20 scoring the same as the next: lower is better.",
    ),
    "quality.queries": ("评估查询数", "Queries evaluated"),
    "quality.queries.help": (
        "参与评估的岗位或毕业生的数量。",
        "How many vacancies or graduates the figures are measured on.",
    ),
    "quality.ece": ("校准误差 ECE", "Calibration error (ECE)"),
    "quality.ece.help": (
        "匹配度与实际成功比例之间的平均差距：越低越好。",
        "Average gap between the match shown and the share that succeeded: lower is better.",
    ),
    "quality.calibration_pairs": ("校准样本数", "Pairs for calibration"),
    "quality.calibration_pairs.help": (
        "用于检查校准的配对数量。",
        "How many pairings the calibration was checked on.",
    ),
    "quality.oracle_share": ("达到理想排序的比例", "Share of the ideal ranking"),
    "quality.oracle_share.help": (
        "排序质量相对于理想排序（知道真实偏好时）的比例。",
        "Ranking quality as a share of the ideal ranking (knowing the true preferences).",
    ),
    "quality.knowable_share": ("达到可知上限的比例", "Share of the knowable ranking"),
    "quality.knowable_share.help": (
        "排序质量相对于仅凭可观察信息所能达到的最好排序的比例。",
        "Ranking quality as a share of the best ranking from observable facts alone.",
    ),
    # audit actions (the log's `action`), as the admin page names them
    "action.post_vacancy": ("发布岗位", "Posted a vacancy"),
    "action.patch_vacancy": ("修改岗位", "Edited a vacancy"),
    "action.close_vacancy": ("关闭岗位", "Closed a vacancy"),
    "action.reopen_vacancy": ("重新开放岗位", "Reopened a vacancy"),
    "action.refuse_vacancy": ("拒绝发布岗位", "Refused a vacancy"),
    "action.import_vacancies": ("批量导入岗位", "Imported vacancies"),
    "action.import_flagged_vacancies": ("导入含提示的岗位", "Imported flagged vacancies"),
    "action.posting_warnings": ("岗位用语提示", "Posting warnings"),
    "action.record_outcome": ("记录进展", "Recorded an outcome"),
    "action.undo_outcome": ("撤销进展", "Undid an outcome"),
    "action.list_candidates": ("查看候选人", "Listed candidates"),
    "action.list_outcomes": ("查看已记录的进展", "Listed recorded outcomes"),
    "action.list_graduates": ("查看毕业生名单", "Listed graduates"),
    "action.list_placed_graduates": ("查看已就业毕业生", "Listed placed graduates"),
    "action.list_recommendations": ("查看岗位建议", "Listed job suggestions"),
    "action.view_graduate": ("查看毕业生", "Viewed a graduate"),
    "action.plan_placements": ("生成安置方案", "Planned placements"),
    "action.import_graduates": ("导入毕业生", "Imported graduates"),
    "action.preview_import_graduates": ("预览毕业生导入", "Previewed a graduates import"),
    "action.erase_graduate": ("删除毕业生数据", "Erased a graduate"),
    "action.purge_graduates": ("按期清理毕业生数据", "Purged graduates past retention"),
    "action.create_key": ("创建密钥", "Created a key"),
    "action.revoke_key": ("吊销密钥", "Revoked a key"),
    "action.reload_model": ("检查新模型", "Checked for a new model"),
    "action.promote_model": ("上线模型版本", "Promoted a model"),
    "action.rollback_model": ("回退模型版本", "Rolled back the model"),
    "action.fairness_report": ("查看公平性报告", "Viewed the fairness report"),
    "quality.matcher.new": ("新模型", "New model"),
    "quality.matcher.current": ("当前模型", "Current model"),
    "quality.matcher.keyword": ("关键词基线", "Keyword baseline"),
    "quality.matcher.oracle": ("理想排序", "Ideal ranking"),
    "quality.matcher.knowable": ("可知上限", "Knowable best"),
    "admin.fairness_link": ("公平性与曝光报告", "Fairness and exposure report"),
    "fairness.title": ("公平性与曝光报告", "Fairness and exposure"),
    "fairness.intro": (
        "按群体统计各阶段的入选率：进入在招岗位前 {k} 名推荐（在求职毕业生中）、"
        "被企业推进（在投递过的毕业生中）、被录用（在投递过的毕业生中）。"
        "影响比 = 该群体入选率 ÷ 入选率最高群体（*）的入选率；低于 {ratio} 标红（五分之四规则）；"
        "少于 {min_n} 人的群体只显示、不标记（样本太少）。",
        "Selection rate per group at each stage: in an open vacancy's top {k} candidates (of seeking "
        "graduates), advanced by an employer (of graduates who applied), hired (of graduates who applied). "
        "Impact ratio = the group's rate / the most-favoured group's (*); under {ratio} it is flagged "
        "(four-fifths rule); groups of fewer than {min_n} are shown, never flagged (too few to tell).",
    ),
    "fairness.model": (
        "模型 {model}，数据版本 {data}，截至 {as_of}",
        "Model {model}, data version {data}, as of {as_of}",
    ),
    "fairness.flags": ("被标记的群体：{n}", "Flagged groups: {n}"),
    "fairness.no_flags": ("没有群体的影响比低于阈值。", "No group's impact ratio is under the threshold."),
    "fairness.coverage": (
        "覆盖率（进入任一岗位前 20 名的求职毕业生比例）",
        "Coverage (seeking graduates in any top 20)",
    ),
    "fairness.congestion": (
        "拥挤度（曝光最多的 10% 岗位占推荐位的比例）",
        "Congestion (share of recommendation slots taken by the top 10% of vacancies)",
    ),
    "fairness.gini": ("岗位曝光的基尼系数", "Gini of vacancy exposure"),
    "fairness.reranked": ("重排后", "re-ranked"),
    "fairness.rerank_note": (
        "曝光感知重排（按 {attribute}）：{state}。重排只改变顺序，不改变任何配对的分数。",
        "Exposure-aware re-ranking (by {attribute}): {state}. "
        "It changes the order only, never a pair's score.",
    ),
    "fairness.rerank_on": ("默认开启", "on by default"),
    "fairness.rerank_off": (
        "默认关闭（请求可用 rerank=exposure 开启）",
        "off by default (rerank=exposure on a request)",
    ),
    "fairness.stage": ("阶段", "Stage"),
    "fairness.group": ("群体", "Group"),
    "fairness.n": ("人数", "n"),
    "fairness.selected": ("入选", "Selected"),
    "fairness.rate": ("入选率", "Rate"),
    "fairness.ci": ("95% 区间", "95% interval"),
    "fairness.impact": ("影响比", "Impact ratio"),
    "fairness.pool_share": ("在求职者中的占比", "Share of the pool"),
    "fairness.exposure_share": ("在前列推荐位中的占比", "Share of top-list slots"),
    "fairness.chart": ("按 {attribute} 的前 {k} 名曝光", "Top-{k} exposure by {attribute}"),
    "fairness.flagged": ("低于五分之四", "under four-fifths"),
    "fairness.low_n": ("样本少", "low n"),
    "fairness.stage.top_k": ("进入前列推荐", "in a top list"),
    "fairness.stage.shortlisted": ("被推进", "shortlisted"),
    "fairness.stage.hired": ("被录用", "hired"),
    "entity.skills": ("技能", "Skills"),
    "entity.enterprises": ("企业", "Enterprises"),
    "entity.schools": ("学校", "Schools"),
    "entity.programs": ("培养项目", "Programmes"),
    "entity.graduates": ("毕业生", "Graduates"),
    "entity.vacancies": ("岗位", "Vacancies"),
    "entity.interactions": ("互动记录", "Interactions"),
    "entity.api_keys": ("API 密钥", "API keys"),
    # enums
    "event.viewed": ("已查看", "viewed"),
    "event.applied": ("已投递", "applied"),
    "event.shortlisted": ("入围", "shortlisted"),
    "event.interviewed": ("已面试", "interviewed"),
    "event.offered": ("已发录用", "offered"),
    "event.hired": ("已录用", "hired"),
    "event.rejected": ("未通过", "rejected"),
    "event.declined": ("已婉拒", "declined"),
    "status.open": ("招聘中", "open"),
    "status.closed": ("已关闭", "closed"),
    "status.filled": ("已招满", "filled"),
    "status.seeking": ("求职中", "seeking"),
    "status.placed": ("已就业", "placed"),
    "status.withdrawn": ("已退出", "withdrawn"),
    "education.secondary": ("中专", "secondary"),
    "education.associate": ("大专", "associate"),
    "education.bachelor": ("本科", "bachelor"),
    "education.master": ("硕士", "master"),
    "education.doctor": ("博士", "doctor"),
    "kind.order_class": ("订单式特色班", "order class"),
    "kind.training": ("培训项目", "training"),
    "kind.degree": ("学历专业", "degree track"),
    "segment.foundry": ("晶圆制造", "foundry"),
    "segment.packaging": ("封装", "packaging"),
    "segment.testing": ("测试", "testing"),
    "segment.design": ("设计", "design"),
    "segment.equipment": ("设备", "equipment"),
    "segment.materials": ("材料", "materials"),
    "segment.display": ("显示", "display"),
    "segment.other": ("其他", "other"),
    # reasons (Reason.code from models/explain.py; the English message is the fallback for unknown codes)
    "reason.required_skills": ("掌握岗位要求的必备技能", "Holds the required skills"),
    "reason.required_skills.count": (
        "掌握 {held}/{total} 项必备技能",
        "Holds {held} of {total} required skills",
    ),
    "reason.required_skills.share": ("掌握 {share}% 的必备技能", "Holds {share}% of the required skills"),
    "reason.required_skills.none": ("岗位未列出必备技能", "The job lists no required skills"),
    "reason.preferred_skills": ("掌握岗位的优先技能", "Holds preferred skills"),
    "reason.preferred_skills.count": ("掌握 {n} 项优先技能", "Holds {n} of the preferred skills"),
    "reason.skill_focus": ("技能集中在该岗位所需的方向", "Skills concentrated on what this job needs"),
    "reason.education": ("学历符合要求", "Meets the education level"),
    "reason.education.above": ("学历高于要求", "Education above the minimum"),
    "reason.district_preference": ("意向工作地区与岗位一致", "Prefers this district"),
    "reason.local_school": ("在该地区就读", "Studied in this district"),
    "reason.sponsor_class": ("来自本企业冠名的订单班", "From the sponsor's order-based class"),
    "reason.program_segment_history": (
        "本项目毕业生常应聘该领域的企业",
        "Graduates of this programme often apply to this segment",
    ),
    "reason.employer_history": (
        "本项目或本校毕业生曾应聘该企业",
        "Graduates of this programme or school have applied to this employer",
    ),
    "reason.program_district_history": (
        "本项目毕业生常在该地区工作",
        "Graduates of this programme often work in this district",
    ),
    "reason.program_role_history": (
        "本项目毕业生常应聘此类职位",
        "Graduates of this programme often apply to this role",
    ),
    "reason.employer_appeal": ("该企业很受求职者欢迎", "This employer attracts many applicants"),
    "reason.employer_screening": (
        "同类企业曾推进与其相似的毕业生",
        "Employers like this one advanced graduates like this one",
    ),
    # the main thing against a pair (models.explain.missing_skill_reason)
    "reason.missing_key_skill": (
        "缺少{skill}：该企业以往推进的毕业生中 {share}% 具备",
        "Lacks {skill}: {share}% of the graduates this employer advanced held it",
    ),
    "reason.missing_skill": ("缺少{skill}", "Lacks {skill}"),
    "reason.graduate_activity": ("正在积极求职", "Actively applying to jobs"),
    "reason.salary": ("薪资水平与其背景相称", "Salary suits this profile"),
    "reason.program_kind": ("这类培养项目适合该岗位", "This kind of programme suits the job"),
    "reason.vacancy_profile": ("岗位特点与其背景相符", "The job's profile suits this graduate's background"),
    "reason.collaborative": (
        "相似的毕业生应聘过类似岗位",
        "Graduates like this one applied to jobs like this",
    ),
    "reason.other": ("其他因素：{message}", "{message}"),
    # placement: why a graduate was not assigned (codes of models.placement.UNASSIGNED_REASONS)
    "unassigned.education_below_minimum": (
        "所有岗位的学历要求都高于该毕业生",
        "Every vacancy asks for more education than the graduate has",
    ),
    "unassigned.no_vacancy_above_min_score": (
        "没有岗位达到最低匹配度 {min}：成功的可能性这么低的安排不予采用。"
        "补齐下列所缺技能的培训可以提高匹配度",
        "No vacancy reaches the minimum match of {min}: a pairing this unlikely to succeed is not planned. "
        "Training in the missing skills below would raise the graduate's chances",
    ),
    "unassigned.no_remaining_headcount": (
        "达到最低匹配度的岗位都已没有名额",
        "Every vacancy matching well enough has no seats left",
    ),
    "unassigned.capacity_taken_by_better_matches": (
        "合适岗位的名额已给了更匹配的毕业生（或合作企业的订单班学生）",
        "The seats of suitable vacancies went to graduates who fit them better (or to the sponsor's class)",
    ),
}


def normalise_language(value: str | None) -> str:
    """``"en"``, ``"en-US"`` → ``"en"``; anything unknown → the default (Chinese)."""
    if not value:
        return DEFAULT_LANGUAGE
    short = value.strip().lower().split("-")[0].split("_")[0]
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    if not text:
        text = pair[0] or pair[1]
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def has(key: str) -> bool:
    return key in MESSAGES


def enum_label(prefix: str, value: object, lang: str) -> str:
    """A translated enum value (``enum_label("event", "hired", "zh") == "已录用"``); unknown values as is."""
    key = f"{prefix}.{value}"
    return translate(key, lang) if key in MESSAGES else str(value)


_COUNT = re.compile(r"holds (\d+) of (\d+) required")
_SHARE = re.compile(r"holds (\d+)% of the required")
_PREFERRED = re.compile(r"holds (\d+) of the preferred")
_MISSING_KEY = re.compile(r"lacks ([^;\s]+); (\d+)% of the graduates")
_MISSING = re.compile(r"lacks ([^;\s]+)")


def reason_text(code: str, message: str, lang: str, skill_name: Callable[[str], str] = str) -> str:
    """A matcher :class:`Reason` in plain words; numbers and skills in the message are kept (skills named by
    ``skill_name``), unknown codes keep the matcher's English message."""
    if code == "missing_key_skill" and (found := _MISSING_KEY.search(message)):
        return translate("reason.missing_key_skill", lang, skill=skill_name(found[1]), share=found[2])
    if code == "missing_skill" and (found := _MISSING.search(message)):
        return translate("reason.missing_skill", lang, skill=skill_name(found[1]))
    if code == "required_skills":
        if found := _COUNT.search(message):
            return translate("reason.required_skills.count", lang, held=found[1], total=found[2])
        if found := _SHARE.search(message):
            return translate("reason.required_skills.share", lang, share=found[1])
        if "no required skills" in message:
            return translate("reason.required_skills.none", lang)
    elif code == "preferred_skills" and (found := _PREFERRED.search(message)):
        return translate("reason.preferred_skills.count", lang, n=found[1])
    elif code == "education" and "above" in message:
        return translate("reason.education.above", lang)
    key = f"reason.{code}"
    if key in MESSAGES:
        return translate(key, lang)
    return translate("reason.other", lang, message=message)


def unassigned_text(code: str, message: str, lang: str, **values: object) -> str:
    """Why a placement plan left a graduate unassigned (``values`` fill placeholders such as ``{min}``)."""
    key = f"unassigned.{code}"
    if key in MESSAGES:
        return translate(key, lang, **values)
    return message or code


class Translator:
    """Bound to one language; what templates receive as ``t``."""

    def __init__(self, lang: str) -> None:
        self.lang = normalise_language(lang)

    def __call__(self, key: str, /, **values: object) -> str:
        return translate(key, self.lang, **values)

    def enum(self, prefix: str, value: object) -> str:
        return enum_label(prefix, value, self.lang)

    def reason(self, reason: object, skill_name: Callable[[str], str] = str) -> str:
        return reason_text(_attr(reason, "code"), _attr(reason, "message"), self.lang, skill_name)

    def unassigned(self, code: str, message: str = "", **values: object) -> str:
        return unassigned_text(code, message, self.lang, **values)

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.lang]


def _attr(obj: object, name: str) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get(name, "") or "")
    return str(getattr(obj, name, "") or "")
