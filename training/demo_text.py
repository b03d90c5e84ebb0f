"""Chinese vacancy titles and descriptions for the demo world.

Descriptions name every required skill (by its Chinese name or one of its aliases, as real postings
do) and the preferred skills in a "优先" clause, so skill extraction from text can be tested on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.columns import EDUCATION_RANK
from training.demo_catalog import JobTemplate

DUTIES: dict[str, str] = {
    "operator": "按作业指导书完成生产操作，做好首件确认与交接班记录",
    "process_engineer": "负责产线工艺参数优化与异常处理，持续提升良率和稳定性",
    "equipment_technician": "负责设备日常点检、保养与故障处理，保障设备稼动率",
    "yield_engineer": "分析在线缺陷与良率数据，推动工艺改善",
    "rd_engineer": "参与新封装结构与工艺的开发、验证与导入量产",
    "quality_engineer": "负责过程质量控制、客诉分析与纠正预防措施",
    "test_engineer": "负责新产品测试方案制定与量产导入，提升测试效率",
    "test_developer": "负责量产测试软件的开发与维护，支持新产品导入",
    "reliability_engineer": "制定并执行产品寿命试验计划，出具试验报告",
    "digital_designer": "负责芯片模块的逻辑设计与时序收敛",
    "verification_engineer": "搭建验证平台，编写测试用例并完成覆盖率收敛",
    "backend_engineer": "负责从网表到GDS的物理实现与签核",
    "analog_designer": "负责电路架构设计、仿真及量产支持",
    "layout_engineer": "完成混合信号芯片的版图实现与签核",
    "dft_engineer": "负责芯片测试结构方案与ATPG向量生成",
    "fpga_engineer": "负责原型验证平台开发与调试",
    "application_engineer": "支持客户方案设计与问题分析，编写应用文档",
    "field_service_engineer": "负责客户现场设备安装、调试与售后维护",
    "mechanical_engineer": "负责设备机械结构设计与装配工艺文件编制",
    "automation_engineer": "负责设备电气设计、控制程序开发与产线改造",
    "assembly_technician": "按图纸完成设备部件装配与调试",
    "qc_analyst": "负责原材料与成品的检验及记录",
    "smt_engineer": "负责电子装联产线工艺维护与品质改善",
    "mes_engineer": "负责工厂信息系统实施、维护与报表开发",
}
ROLE_FALLBACK_DUTY = "完成部门安排的相关工作"


def _mention(name: str, aliases: Sequence[str], u: float) -> str:
    """The Chinese name most of the time, otherwise an alias (what HR actually types)."""
    if not aliases or u < 0.6:
        return name
    return aliases[min(int((u - 0.6) / 0.4 * len(aliases)), len(aliases) - 1)]


def vacancy_title(
    template: JobTemplate, required: np.ndarray, skill_names: Sequence[str], min_edu: int
) -> str:
    title = template.title
    if template.title_from_skill and len(required):
        lead = skill_names[int(required[0])].removesuffix("工艺")
        title = f"{lead}工艺工程师"
    if min_edu >= EDUCATION_RANK["master"] and not title.startswith("高级"):
        title = "高级" + title
    return title


def _salary_text(salary: tuple[float, float]) -> str:
    lo, hi = salary
    if math.isnan(lo) or math.isnan(hi):
        return "薪资面议。"
    return f"薪资{int(lo)}-{int(hi)}元/月，五险一金。"


def vacancy_description(
    *,
    enterprise: str,
    title: str,
    role: str,
    headcount: int,
    required: Sequence[tuple[str, Sequence[str]]],
    preferred: Sequence[tuple[str, Sequence[str]]],
    education: str,
    district: str,
    salary: tuple[float, float],
    u: np.ndarray,
) -> str:
    """A posting in one of two house styles; ``u`` holds the uniforms that pick wording."""
    req = "、".join(_mention(n, a, float(u[2 + i % 8])) for i, (n, a) in enumerate(required))
    pref = "、".join(_mention(n, a, float(u[(7 + i) % 12])) for i, (n, a) in enumerate(preferred))
    duty = DUTIES.get(role, ROLE_FALLBACK_DUTY)
    if u[0] < 0.6:
        lines = [
            f"{enterprise}因业务发展需要，招聘{title}{headcount}名。",
            f"岗位职责：{duty}。",
            f"任职要求：1. {education}及以上学历，理工科相关专业；2. 熟悉{req}；",
        ]
        if pref:
            lines.append(f"3. 有{pref}经验者优先。")
        lines.append(f"工作地点：绍兴市{district}。{_salary_text(salary)}")
        return "\n".join(lines)
    parts = [
        f"【{title}】{enterprise}（{district}）招{headcount}人。",
        f"要求：{education}及以上，掌握{req}。",
    ]
    if pref:
        parts.append(f"加分项：{pref}。")
    parts.append(f"职责：{duty}。{_salary_text(salary)}")
    if u[1] < 0.3:
        parts.append("应届毕业生及订单班学员优先考虑。")
    return "".join(parts)
