import numpy as np

from models.explain import COL, GROUPS, TOP_REASONS, reasons_for
from models.pairs import FEATURE_NAMES


def _row(**values: float) -> np.ndarray:
    x = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
    for name, value in values.items():
        x[COL[name]] = value
    return x


def test_strongest_reasons_first_ties_by_name_and_conditions_hold() -> None:
    names = list(GROUPS)
    x = _row(n_required=4, required_missing=1, required_coverage=0.75, district_preference=1, salary=np.nan)
    contributions = np.zeros((2, len(names)))
    weight = {"salary": 0.9, "required_skills": 0.2, "district_preference": 0.2, "collaborative": 0.05}
    for name, w in weight.items():
        contributions[0, names.index(name)] = w
    reasons = reasons_for(np.stack([x, x]), contributions, names)
    # salary's condition fails (no salary); the tie at 0.2 goes by name; at most TOP_REASONS
    assert [r.code for r in reasons[0]] == ["district_preference", "required_skills", "collaborative"]
    assert len(reasons[0]) <= TOP_REASONS
    assert reasons[0][1].message == "holds 3 of 4 required skills"
    assert reasons[0][0].weight == 0.2
    # Nothing raised the score: the required-skills line stands alone.
    assert [(r.code, r.message) for r in reasons[1]] == [("required_skills", "holds 3 of 4 required skills")]
    assert reasons_for(np.zeros((0, len(FEATURE_NAMES))), np.zeros((0, len(names))), names) == []
