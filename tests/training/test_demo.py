"""The demo world: deterministic, the stated sizes, consistent references, and a ground truth that holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.bundle import read_bundle
from models.columns import (
    EDUCATION_LEVELS,
    EVENTS,
    GRADUATE_STATUSES,
    PROGRAM_KINDS,
    SEGMENTS,
    VACANCY_STATUSES,
)
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from service.cli import main
from training.demo import VARIANTS, DemoWorld, generate, load_ground_truth
from training.demo_history import SIMULATION
from training.demo_truth import EMPLOYER_WEIGHTS, UTILITY_WEIGHTS
from training.demo_variants import Variant

# Pipeline order of events for one (graduate, vacancy) pair.
STAGE = {"viewed": 0, "applied": 1, "shortlisted": 2, "interviewed": 3, "offered": 4, "hired": 5}


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    return generate("small", seed=7)


def _frames_equal(a: MarketData, b: MarketData) -> bool:
    for name in a.entity_names():
        left, right = getattr(a, name), getattr(b, name)
        if list(left.columns) != list(right.columns) or len(left) != len(right):
            return False
        if not left.astype(str).equals(right.astype(str)):
            return False
    return True


def test_same_seed_same_world(world: DemoWorld) -> None:
    again = generate("small", seed=7)
    assert _frames_equal(world.data, again.data)
    g = world.truth.graduate_ids[:50]
    v = world.truth.vacancy_ids[:50]
    np.testing.assert_array_equal(world.truth.utility(g, v), again.truth.utility(g, v))


def test_different_seed_different_world(world: DemoWorld) -> None:
    other = generate("small", seed=8)
    assert not _frames_equal(world.data, other.data)


def test_small_sizes(world: DemoWorld) -> None:
    d = world.data
    assert 80 <= len(d.skills) <= 128
    assert 90 <= len(d.enterprises) <= 110
    assert 1000 <= len(d.graduates) <= 2000
    assert 250 <= len(d.vacancies) <= 350
    assert len(d.interactions) > 5 * len(d.vacancies)
    order_classes = d.programs[d.programs[C.kind] == "order_class"]
    assert len(order_classes) == 3
    in_classes = d.graduates[C.program].isin(order_classes[C.program]).sum()
    assert 110 <= in_classes <= 150
    advanced = d.programs[d.programs[C.name].str.contains("高级工程师")]
    assert len(advanced) == 1
    assert (d.graduates[C.program] == advanced[C.program].iloc[0]).sum() == 57
    assert (d.programs[C.kind] == "degree").sum() >= 3


def test_columns_and_enums(world: DemoWorld) -> None:
    d = world.data
    for name, frame in d.frames().items():
        assert tuple(frame.columns) == ENTITY_COLUMNS[name], name
    assert set(d.enterprises[C.segment]) == set(SEGMENTS)
    assert set(d.programs[C.kind]) == set(PROGRAM_KINDS)
    assert set(d.graduates[C.education]) <= set(EDUCATION_LEVELS)
    assert set(d.graduates[C.status]) == set(GRADUATE_STATUSES)
    assert (d.graduates[C.status] == "seeking").mean() > 0.5
    assert set(d.vacancies[C.status]) == set(VACANCY_STATUSES)
    assert set(d.interactions[C.event]) == set(EVENTS)
    assert (d.vacancies[C.headcount] >= 1).all()
    salaries = d.vacancies[[C.salary_min, C.salary_max]].dropna()
    assert (salaries[C.salary_min] <= salaries[C.salary_max]).all()
    assert d.graduates[C.preferred_districts].map(len).between(1, 3).all()
    assert d.vacancies[C.required_skills].map(len).between(2, 5).all()
    assert d.vacancies[C.preferred_skills].map(len).between(0, 3).all()
    assert (d.vacancies[C.posted_at] < d.vacancies[C.closes_at]).all()


def test_references_resolve(world: DemoWorld) -> None:
    d = world.data
    skills = set(d.skills[C.skill])
    for frame, column in [
        (d.programs, C.skills),
        (d.graduates, C.skills),
        (d.vacancies, C.required_skills),
        (d.vacancies, C.preferred_skills),
    ]:
        assert set(frame[column].explode().dropna()) <= skills, column
    assert set(d.programs[C.school]) <= set(d.schools[C.school])
    sponsors = d.programs[C.sponsor]
    is_class = d.programs[C.kind] == "order_class"
    assert sponsors[is_class].notna().all() and sponsors[~is_class].isna().all()
    assert set(sponsors.dropna()) <= set(d.enterprises[C.enterprise])
    assert set(d.graduates[C.program]) <= set(d.programs[C.program])
    assert set(d.vacancies[C.enterprise]) <= set(d.enterprises[C.enterprise])
    assert set(d.interactions[C.graduate]) <= set(d.graduates[C.graduate])
    assert set(d.interactions[C.vacancy]) <= set(d.vacancies[C.vacancy])
    for name, key in [("skills", C.skill), ("enterprises", C.enterprise), ("graduates", C.graduate)]:
        assert getattr(d, name)[key].is_unique
    assert not d.interactions.duplicated().any()
    # Every vacancy's district is its enterprise's.
    merged = d.vacancies.merge(d.enterprises, on=C.enterprise, suffixes=("", "_e"))
    assert (merged[C.district] == merged[C.district + "_e"]).all()


def test_headcount_never_exceeded(world: DemoWorld) -> None:
    d = world.data
    hires = d.interactions[d.interactions[C.event] == "hired"]
    per_vacancy = hires.groupby(C.vacancy).size()
    headcount = d.vacancies.set_index(C.vacancy)[C.headcount]
    assert (per_vacancy <= headcount.loc[per_vacancy.index]).all()
    filled = d.vacancies[d.vacancies[C.status] == "filled"].set_index(C.vacancy)
    assert (per_vacancy.reindex(filled.index, fill_value=0) == filled[C.headcount]).all()
    # One hire per graduate, and exactly the hired graduates are placed.
    assert hires[C.graduate].is_unique
    placed = set(d.graduates.loc[d.graduates[C.status] == "placed", C.graduate])
    assert placed == set(hires[C.graduate])


def test_event_order_per_pair(world: DemoWorld) -> None:
    inter = world.data.interactions.sort_values([C.graduate, C.vacancy, C.occurred_at], kind="mergesort")
    pair = [C.graduate, C.vacancy]
    # Times strictly increase along each pair.
    same_pair = (inter[C.graduate].shift() == inter[C.graduate]) & (
        inter[C.vacancy].shift() == inter[C.vacancy]
    )
    assert (inter[C.occurred_at].diff()[same_pair] > pd.Timedelta(0)).all()
    # viewed < applied < shortlisted < interviewed < offered < hired, without gaps.
    pipeline = inter[inter[C.event].isin(list(STAGE))]
    position = pipeline.groupby(pair).cumcount()
    assert (pipeline[C.event].map(STAGE) == position).all()
    # rejected / declined / hired close a pair: nothing of that pair comes after them.
    last = inter.groupby(pair).tail(1)
    enders = inter[inter[C.event].isin(["rejected", "declined", "hired"])]
    assert len(enders.merge(last, on=[*pair, C.event, C.occurred_at])) == len(enders)


def test_vacancy_events_inside_its_window(world: DemoWorld) -> None:
    d = world.data
    views = d.interactions[d.interactions[C.event].isin(["viewed", "applied"])].merge(
        d.vacancies, on=C.vacancy
    )
    assert (views[C.occurred_at] >= views[C.posted_at]).all()
    assert (views[C.occurred_at] <= views[C.closes_at]).all()
    as_of = pd.Timestamp(world.truth.params["as_of"])
    assert (d.interactions[C.occurred_at] < as_of).all()


def test_ground_truth_round_trips(world: DemoWorld, tmp_path: Path) -> None:
    world.truth.save(tmp_path / "ground_truth")
    loaded = load_ground_truth(tmp_path)
    rng = np.random.default_rng(0)
    g = rng.choice(world.truth.graduate_ids, 500)
    v = rng.choice(world.truth.vacancy_ids, 500)
    np.testing.assert_array_equal(loaded.utility(g, v), world.truth.utility(g, v))
    assert loaded.params == world.truth.params
    with pytest.raises(KeyError):
        loaded.utility(["nobody"], [v[0]])


def test_utility_rises_with_required_skills(world: DemoWorld) -> None:
    truth = world.truth
    rng = np.random.default_rng(1)
    g = rng.integers(0, len(truth.graduate_ids), 20000)
    v = rng.integers(0, len(truth.vacancy_ids), 20000)
    share = truth.components_at(g, v)["required"]
    utility = truth.utility_at(g, v)
    none, some, most = (
        utility[share == 0].mean(),
        utility[(share > 0) & (share < 0.5)].mean(),
        utility[share >= 0.5].mean(),
    )
    assert none < some < most


def test_signals_show_in_interactions(world: DemoWorld) -> None:
    """Applications concentrate on high-utility pairs: what a model can learn."""
    d = world.data
    truth = world.truth
    views = d.interactions[d.interactions[C.event] == "viewed"]
    applied = set(
        map(
            tuple,
            d.interactions.loc[d.interactions[C.event] == "applied", [C.graduate, C.vacancy]].to_numpy(),
        )
    )
    u = truth.utility(views[C.graduate].to_numpy(), views[C.vacancy].to_numpy())
    was_applied = np.array([(g, v) in applied for g, v in views[[C.graduate, C.vacancy]].to_numpy()])
    assert u[was_applied].mean() > u[~was_applied].mean() + 0.5


def test_cli_writes_a_bundle_that_reads_back(
    world: DemoWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo-data", str(tmp_path), "--scale", "small", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "graduates" in out and "interactions" in out
    truth = load_ground_truth(tmp_path)
    assert truth.params["seed"] == 7
    data = read_bundle(tmp_path)  # raises BundleError listing every problem
    assert data.counts() == world.data.counts()
    for name in ("programs", "graduates", "vacancies"):
        key = ENTITY_COLUMNS[name][0]
        ours = getattr(world.data, name).sort_values(key).reset_index(drop=True)
        theirs = getattr(data, name).sort_values(key).reset_index(drop=True)
        for column in (C.skills, C.required_skills, C.status, C.headcount, C.sponsor):
            if column in ours:
                assert ours[column].map(_plain).tolist() == theirs[column].map(_plain).tolist(), (
                    name,
                    column,
                )


def _plain(value: object) -> object:
    return value if isinstance(value, list) else (None if pd.isna(value) else value)  # type: ignore[call-overload]


def test_cli_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-data", str(tmp_path), "--as-of", "someday"]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["demo-data", str(tmp_path / "file")]) == 2
    with pytest.raises(SystemExit):
        main(["demo-data", str(tmp_path), "--scale", "huge"])
    with pytest.raises(ValueError, match="unknown scale"):
        generate("huge")


def test_descriptions_name_their_skills(world: DemoWorld) -> None:
    skills = world.data.skills.set_index(C.skill)
    terms = {sid: [row[C.name_zh], *row[C.aliases]] for sid, row in skills.iterrows()}
    for row in world.data.vacancies.itertuples():
        for sid in [*row.required_skills, *row.preferred_skills]:
            assert any(term in row.description for term in terms[sid]), (row.vacancy_id, sid)
        assert str(row.headcount) in row.description


def test_sponsor_affinity_shows(world: DemoWorld) -> None:
    """Order-class graduates apply to their sponsor far more often than the sponsor's share of postings."""
    d = world.data
    sponsor_of = d.graduates[C.program].map(d.programs.set_index(C.program)[C.sponsor])
    applied = d.interactions[d.interactions[C.event] == "applied"]
    applied = applied.assign(
        sponsor=applied[C.graduate].map(dict(zip(d.graduates[C.graduate], sponsor_of, strict=True))),
        employer=applied[C.vacancy].map(d.vacancies.set_index(C.vacancy)[C.enterprise]),
    ).dropna(subset=["sponsor"])
    to_sponsor = (applied["sponsor"] == applied["employer"]).mean()
    sponsor_share = d.vacancies[C.enterprise].isin(applied["sponsor"].unique()).mean() / 3
    assert to_sponsor > 3 * sponsor_share


# ---- variants -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def variants(world: DemoWorld) -> dict[str, DemoWorld]:
    """Every variant's small world for seed 7 (default is the ``world`` fixture)."""
    return {name: world if name == "default" else generate("small", 7, variant=name) for name in VARIANTS}


def _events(world: DemoWorld) -> pd.Series:
    return world.data.interactions[C.event].value_counts()


def _pair_terms(world: DemoWorld, event: str) -> dict[str, np.ndarray]:
    """The hidden model's terms of the pairs that reached ``event``."""
    rows = world.data.interactions[world.data.interactions[C.event] == event]
    truth = world.truth
    return truth.components_at(
        truth.graduate_rows(rows[C.graduate].to_numpy()), truth.vacancy_rows(rows[C.vacancy].to_numpy())
    )


def test_the_required_variants_exist() -> None:
    assert {"default", "skills-first", "sponsor-first", "popularity-heavy", "sparse-history"} <= set(VARIANTS)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_is_trainable(variants: dict[str, DemoWorld], name: str) -> None:
    world = variants[name]
    events = _events(world)
    for event in ("viewed", "applied", "shortlisted", "interviewed", "offered", "hired", "rejected"):
        assert events.get(event, 0) >= 30, (name, event, int(events.get(event, 0)))
    assert events["viewed"] > events["applied"] > events["shortlisted"] > events["hired"]
    assert world.truth.params["variant"] == name
    chosen = VARIANTS[name]
    assert world.truth.params["utility_weights"] == {**UTILITY_WEIGHTS, **chosen.utility}
    assert world.truth.params["employer_weights"] == {**EMPLOYER_WEIGHTS, **chosen.employer}
    simulation = dict(world.truth.params["simulation"])
    simulation.pop("thresholds")
    assert simulation == {**SIMULATION, **chosen.simulation}


def test_variants_are_deterministic_and_share_the_entities(variants: dict[str, DemoWorld]) -> None:
    again = generate("small", 7, variant="popularity-heavy")
    assert _frames_equal(again.data, variants["popularity-heavy"].data)
    default = variants["default"].data
    for name, world in variants.items():
        assert world.data.graduates[C.skills].equals(default.graduates[C.skills]), name
        assert world.data.vacancies[C.required_skills].equals(default.vacancies[C.required_skills]), name
        if name != "default":
            assert not world.data.interactions.equals(default.interactions), name


def test_explicit_default_is_the_default_world(world: DemoWorld) -> None:
    again = generate("small", 7, variant="default")
    assert _frames_equal(again.data, world.data)
    assert again.truth.params == world.truth.params


def test_generating_variants_leaves_the_module_constants_alone(variants: dict[str, DemoWorld]) -> None:
    assert variants["sparse-history"].truth.params["simulation"]["views_factor"] < 1.0
    assert SIMULATION["views_factor"] == 1.0 and SIMULATION["reject_notice"] == 0.75
    assert UTILITY_WEIGHTS["required"] == 3.0 and UTILITY_WEIGHTS["appeal"] == 0.5
    assert EMPLOYER_WEIGHTS["sponsor"] == 1.5


def test_skills_first_applications_follow_skills(variants: dict[str, DemoWorld]) -> None:
    default = _pair_terms(variants["default"], "applied")
    skills = _pair_terms(variants["skills-first"], "applied")
    assert skills["required"].mean() > default["required"].mean() + 0.1
    assert skills["appeal"].mean() < default["appeal"].mean()


def test_sponsor_first_order_classes_turn_to_their_sponsor(variants: dict[str, DemoWorld]) -> None:
    def to_sponsor(name: str, event: str) -> tuple[float, float]:
        """Order-class graduates' pairs with their sponsor that reached ``event``: count and share."""
        world = variants[name]
        rows = world.data.interactions[world.data.interactions[C.event] == event]
        in_class = world.truth.graduate_sponsor[world.truth.graduate_rows(rows[C.graduate].to_numpy())] >= 0
        sponsor = _pair_terms(world, event)["sponsor"][in_class]
        return float(sponsor.sum()), float(sponsor.mean())

    assert to_sponsor("sponsor-first", "applied")[1] > 2 * to_sponsor("default", "applied")[1]
    assert to_sponsor("sponsor-first", "viewed")[0] > to_sponsor("default", "viewed")[0]
    assert to_sponsor("sponsor-first", "hired")[0] > 2 * to_sponsor("default", "hired")[0]


def test_popularity_heavy_exposure_follows_appeal_but_employers_screen_on_fit(
    variants: dict[str, DemoWorld],
) -> None:
    world = variants["popularity-heavy"]
    viewed, applied, hired = (_pair_terms(world, e) for e in ("viewed", "applied", "hired"))
    assert viewed["appeal"].mean() > _pair_terms(variants["default"], "viewed")["appeal"].mean() + 0.5
    # Who applies is about appeal; who gets hired is about skills.
    assert hired["required"].mean() > applied["required"].mean() + 0.15
    assert abs(hired["appeal"].mean() - applied["appeal"].mean()) < 0.2


def test_sparse_history_is_sparse(variants: dict[str, DemoWorld]) -> None:
    default, sparse = _events(variants["default"]), _events(variants["sparse-history"])
    assert sparse["viewed"] < 0.35 * default["viewed"]
    assert sparse["rejected"] / sparse["applied"] < 0.6 * default["rejected"] / default["applied"]


def test_unknown_variant_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown variant 'nope'.*skills-first.*sparse-history"):
        generate("small", 7, variant="nope")
    with pytest.raises(ValueError, match="unknown utility key"):
        Variant("typo", changes="", checks="", utility={"requried": 1.0})
