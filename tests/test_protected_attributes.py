"""No protected attribute is a feature, a column or a bundle field (issue 16, part 4).

Gender, age and birth, marital and childbirth status, ethnicity, religion, hukou and place of origin, health,
height, weight and looks are not in the data model, so the matcher cannot use them: this test enumerates
every name that could carry one (the fitted tiny model's pair features, its token groups, its LightFM
feature groups, every table column, every bundle column, every property of the API's schemas) and checks
none names a protected attribute. The fairness report groups graduates by school, programme kind, order
class, education and district; none of these is protected either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from models.data import ENTITY_COLUMNS
from models.matcher import Matcher
from models.pairs import FEATURE_NAMES, FEATURES
from service.app import create_app
from service.settings import Settings
from service.store.tables import Base
from training.registry import LoadedModel

# Words (a name is split at "_", ":", "." and spaces) and Chinese fragments naming a protected attribute.
PROTECTED_WORDS = frozenset(
    {
        "gender", "sex", "male", "female", "age", "ages", "aged", "birth", "birthday", "birthdate", "born",
        "dob", "marital", "marriage", "married", "spouse", "children", "child", "pregnant", "pregnancy",
        "maternity", "ethnic", "ethnicity", "nation", "nationality", "race", "racial", "religion",
        "religious", "hukou", "household", "origin", "native", "hometown", "height", "weight", "appearance",
        "looks", "photo", "face", "health", "disability", "disabled", "hiv", "hepatitis",
    }
)  # fmt: skip
PROTECTED_ZH = re.compile("性别|年龄|出生|婚|生育|民族|宗教|户籍|户口|籍贯|身高|体重|相貌|照片|健康|残疾")


def protected(name: str) -> bool:
    words = {w.lower() for w in re.split(r"[_:.\s\-/]+", name) if w}
    return bool(words & PROTECTED_WORDS) or PROTECTED_ZH.search(name) is not None


def test_the_word_list_catches_what_it_should() -> None:
    assert protected("graduate_gender") and protected("age") and protected("hukou:本地") and protected("民族")
    assert not protected("stage") and not protected("average_rate") and not protected("program_segment")


def _token_groups(matcher: Matcher) -> set[str]:
    space = matcher.features_
    groups = set()
    for vocab in (space.graduate_vocab_, space.vacancy_vocab_):
        assert vocab is not None
        groups |= {token.split(":", 1)[0] for token in vocab.external(range(len(vocab)))}
    return groups


def _schema_properties(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from _schema_properties(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _schema_properties(item)


def test_no_feature_of_a_fitted_model_names_a_protected_attribute(tiny_model: LoadedModel) -> None:
    matcher = tiny_model.matcher
    assert isinstance(matcher, Matcher)
    names = {
        "pair features": set(FEATURE_NAMES),
        "reason groups": set(FEATURES.values()),
        "features the fitted model leaves out": set(matcher.model_.spec.without),
        "token groups (LightFM)": _token_groups(matcher),
    }
    assert names["token groups (LightFM)"] >= {"skill", "program", "school", "req", "ent", "district"}
    for kind, found in names.items():
        assert not [n for n in found if protected(n)], kind


def test_no_column_or_bundle_field_names_a_protected_attribute() -> None:
    columns = {f"{table.name}.{column.name}" for table in Base.metadata.tables.values() for column in table.c}
    assert "graduates.education" in columns
    assert not [c for c in columns if protected(c)]
    fields = {f"{entity}.{column}" for entity, names in ENTITY_COLUMNS.items() for column in names}
    assert "graduates.preferred_districts" in fields
    assert not [f for f in fields if protected(f)]


def test_no_api_schema_property_names_a_protected_attribute(tmp_path: Any) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", artifacts_dir=tmp_path / "a"))
    properties = set(_schema_properties(app.openapi()))
    assert {"graduate_id", "score", "education"} <= properties
    assert not [p for p in properties if protected(p)]
