"""The school side through HTTP, API and pages alike: ids scoped per school (the upload is no id oracle,
finding 6), one id pattern at every entry (finding 7), the programme size cap and the plan's pages
(finding 9), the empty upload and control characters described by the schema (finding 11), and views of
graduates audited (findings 3 and 12)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.placement import DEFAULT_MIN_SCORE
from service.store.tables import AuditEntry, Graduate
from tests.service.api.conftest import Api, Template, make_seeded_api
from tests.service.api.school_helpers import csv_bytes
from tests.web.conftest import Web, _make_web

UPLOAD = "/api/v1/programs/P1/graduates/import"


def _upload(api: Api, rows: list[str], key: str = "school_s1", url: str = UPLOAD) -> Any:
    return api.client.post(
        url, headers=api.headers[key], files={"file": ("graduates.csv", csv_bytes(rows), "text/csv")}
    )


def _graduates(api: Api) -> int:
    with api.session() as session:
        return int(session.scalar(select(func.count()).select_from(Graduate)) or 0)


def _audit(api: Api | Web, action: str) -> list[AuditEntry]:
    from service.store.session import make_sessionmaker

    api.client.app.state.services.audit_buffer.flush()  # type: ignore[attr-defined]  # reads' entries are batched
    with make_sessionmaker(api.engine)() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ------------------------------------------------------------------------------ finding 6: no id oracle
def test_uploading_another_schools_id_answers_exactly_like_a_fresh_id(api: Api) -> None:
    # G09 is a graduate of school S2; G77 is nobody's.
    previews = [
        _upload(
            api, [f"{g},P1,associate,微电子技术,lithography,,,seeking"], url=UPLOAD + "?preview=true"
        ).json()
        for g in ("G09", "G77")
    ]
    assert [r["action"] for p in previews for r in p["rows"]] == ["add", "add"]
    assert previews[0]["rows"][0]["key"] == "G09" and previews[1]["rows"][0]["key"] == "G77"
    assert {**previews[0], "rows": []} == {**previews[1], "rows": []}
    taken = _upload(api, ["G09,P1,associate,微电子技术,lithography,,,seeking"])
    fresh = _upload(api, ["G77,P1,associate,微电子技术,lithography,,,seeking"])
    assert taken.status_code == fresh.status_code == 200, taken.text
    assert (
        taken.json()
        == fresh.json()
        == {
            "program_id": "P1",
            "added": 1,
            "updated": 0,
            "unchanged": 0,
            "preview": False,
            "rows": [],
        }
    )
    # The school reads both back by its own ids, the same way.
    mine = api.client.get("/api/v1/graduates/G09", headers=api.headers["school_s1"]).json()
    other = api.client.get("/api/v1/graduates/G77", headers=api.headers["school_s1"]).json()
    assert {k: v for k, v in mine.items() if k != "graduate_id"} == {
        k: v for k, v in other.items() if k != "graduate_id"
    }
    assert mine["graduate_id"] == "G09" and mine["program_id"] == "P1"
    with api.session() as session:  # two graduates known as G09 now, one per school, under distinct ids
        known = session.scalars(
            select(Graduate.graduate_id).where(
                func.coalesce(Graduate.student_id, Graduate.graduate_id) == "G09"
            )
        ).all()
    assert len(set(known)) == 2
    listed = api.client.get("/api/v1/programs/P1/graduates", headers=api.headers["school_s1"]).json()
    assert {"G09", "G77"} <= {g["graduate_id"] for g in listed["items"]}
    # School S2's G09 is untouched and still its own.
    theirs = api.client.get("/api/v1/graduates/G09", headers=api.headers["school_s2"]).json()
    assert theirs["program_id"] == "P3" and theirs["skills"] == ["verilog"]
    # Re-uploading its own graduate updates it (no second graduate), for both ids alike.
    again = _upload(api, ["G09,P1,associate,微电子技术,lithography;etching,,,seeking"])
    again_fresh = _upload(api, ["G77,P1,associate,微电子技术,lithography;etching,,,seeking"])
    assert again.json() == again_fresh.json()
    assert (again.json()["added"], again.json()["updated"], again.json()["unchanged"]) == (0, 1, 0)
    # A row with a problem is refused with the same problems whichever id it carries.
    bad_taken = _upload(api, ["G10,P1,高中,,lithography,,,seeking"]).json()["error"]
    bad_fresh = _upload(api, ["G78,P1,高中,,lithography,,,seeking"]).json()["error"]
    assert [(d["line"], d["column"]) for d in bad_taken["details"]] == [
        (d["line"], d["column"]) for d in bad_fresh["details"]
    ]
    # Erasing the school's G09 leaves the other school's G09 in place.
    erased = api.client.delete("/api/v1/graduates/G09", headers=api.headers["school_s1"])
    assert erased.status_code == 204
    assert api.client.get("/api/v1/graduates/G09", headers=api.headers["school_s1"]).status_code == 404
    assert api.client.get("/api/v1/graduates/G09", headers=api.headers["school_s2"]).status_code == 200


def test_the_upload_page_answers_another_schools_id_like_a_fresh_one(web: Web) -> None:
    web.sign_in("school")
    token = web.csrf("/programs/P1")
    answers = []
    for graduate_id in ("G09", "G79"):
        row = f"{graduate_id},P1,associate,,lithography,,,seeking"
        preview = web.client.post(
            "/programs/P1/graduates/import",
            data={"csrf_token": token},
            files={"file": ("graduates.csv", io.BytesIO(csv_bytes([row])), "text/csv")},
            follow_redirects=False,
        )
        carried = re.search(
            r'name="payload" value="([^"]+)".*?name="signature" value="([^"]+)"', preview.text, re.S
        )
        assert carried, preview.text
        summary = re.search(r'class="upload-summary">([^<]+)<', preview.text)
        response = web.client.post(
            "/programs/P1/graduates/import/confirm",
            data={"csrf_token": token, "payload": carried[1], "signature": carried[2]},
            follow_redirects=False,
        )
        answers.append(
            (
                preview.status_code,
                summary and summary[1],
                response.status_code,
                response.headers.get("location"),
            )
        )
    assert answers[0] == answers[1] == (200, "将新增 1 条，更新 0 条，0 条不变。", 303, "/programs/P1")
    page = web.client.get("/programs/P1").text
    assert "G09" in page and "G79" in page


# ------------------------------------------------------------------------------ finding 7: one id pattern
@pytest.mark.parametrize(
    "graduate_id", ["../../etc", "a/b", "G\u202e1", "G 1", "-G1", "x" * 65, "G1\x01"], ids=repr
)
def test_an_upload_with_an_id_outside_the_pattern_is_refused_naming_line_and_field(
    api: Api, graduate_id: str
) -> None:
    before = _graduates(api)
    response = _upload(api, [GOOD, f'"{graduate_id}",P1,associate,,lithography,,,seeking'])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_upload"
    assert (3, "graduate_id") in {(d["line"], d["column"]) for d in error["details"]}
    assert _graduates(api) == before


GOOD = "G30,P1,associate,,lithography,,,seeking"


@pytest.mark.parametrize("path", ["/api/v1/graduates/{id}", "/api/v1/graduates/{id}/recommendations"])
def test_a_path_id_with_control_or_bidi_characters_is_422_naming_the_field(api: Api, path: str) -> None:
    for bad in ("G%01", "G%E2%80%AE1", "-G1", "G%20"):
        response = api.client.get(path.format(id=bad), headers=api.headers["school_s1"])
        assert response.status_code == 422, (bad, response.text)
        assert "graduate_id" in response.text
    program = api.client.get("/api/v1/programs/P%01/graduates", headers=api.headers["school_s1"])
    assert program.status_code == 422 and "program_id" in program.text
    spec = api.client.get("/openapi.json").json()
    parameters = spec["paths"]["/api/v1/graduates/{graduate_id}"]["get"]["parameters"]
    schema = next(p for p in parameters if p["name"] == "graduate_id")["schema"]
    from models.ids import ID_PATTERN

    assert schema["pattern"] == ID_PATTERN


# ------------------------------------------------------------------------------ finding 9: size cap, pages
@pytest.fixture
def capped_api(seeded_sqlite: Engine, seeded_template: Template, tmp_path: Path) -> Iterator[Api]:
    """The app with programmes capped at 5 graduates (P1 holds 4)."""
    yield from make_seeded_api(seeded_sqlite, seeded_template, tmp_path, max_program_graduates=5)


def test_an_upload_past_the_programme_cap_is_refused_naming_the_limit(capped_api: Api) -> None:
    api = capped_api
    rows = ["G31,P1,associate,,lithography,,,seeking", "G32,P1,associate,,lithography,,,seeking"]
    before = _graduates(api)
    response = _upload(api, rows)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "program_full"
    assert "最多 5 名" in error["message"] and "TALENTMATCH_MAX_PROGRAM_GRADUATES" in error["message"]
    assert error["details"][0]["limit"] == 5
    assert _graduates(api) == before
    # Updates of the programme's own graduates do not count against the cap; one more fits.
    assert _upload(api, ["G01,P1,associate,,lithography,,,seeking", rows[0]]).status_code == 200
    assert _upload(api, [rows[1]]).json()["error"]["code"] == "program_full"


def test_the_placement_plan_lists_are_paged(api_with_model: Api) -> None:
    api = api_with_model
    url = "/api/v1/programs/P1/placements"
    whole = api.client.get(url, headers=api.headers["school_s1"]).json()
    assert whole["min_score"] == DEFAULT_MIN_SCORE
    n_assigned, n_unassigned = whole["assignments_total"], whole["unassigned_total"]
    assert n_assigned + n_unassigned >= 2 and len(whole["assignments"]) == n_assigned
    seen: list[str] = []
    for offset in range(max(n_assigned, n_unassigned)):
        page = api.client.get(url, params={"limit": 1, "offset": offset}, headers=api.headers["school_s1"])
        body = page.json()
        assert len(body["assignments"]) <= 1 and len(body["unassigned"]) <= 1
        assert body["limit"] == 1 and body["offset"] == offset
        assert body["metrics"] == whole["metrics"]  # the whole plan's metrics on every page
        seen += [a["graduate_id"] for a in body["assignments"]]
    assert seen == [a["graduate_id"] for a in whole["assignments"]]
    too_big = api.client.get(url, params={"limit": 101}, headers=api.headers["school_s1"])
    assert too_big.status_code == 422


# ------------------------------------------------------------------------------ finding 11: empty upload
def test_an_empty_upload_is_a_clear_422_naming_the_file_and_the_schema_says_so(api: Api) -> None:
    before = _graduates(api)
    response = api.client.post(
        UPLOAD,
        headers={**api.headers["school_s1"], "Accept-Language": "en"},
        files={"file": ("graduates.csv", b"", "text/csv")},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_upload" and "'file' is empty" in error["message"]
    chinese = api.client.post(
        UPLOAD, headers=api.headers["school_s1"], files={"file": ("graduates.csv", b"", "text/csv")}
    ).json()["error"]
    assert chinese["message"].startswith("“file”为空")
    assert [d["field"] for d in error["details"]] == ["file"]
    assert _graduates(api) == before
    spec = api.client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/programs/{program_id}/graduates/import"]["post"]["requestBody"]
    ref = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][ref]["properties"]["file"]["minLength"] == 1


# ------------------------------------------------------------------------------ findings 3, 12: audit
def test_viewing_graduates_is_audited_through_the_api_and_the_pages(api: Api, web: Web) -> None:
    assert api.client.get("/api/v1/graduates/G01", headers=api.headers["school_s1"]).status_code == 200
    [viewed] = _audit(api, "view_graduate")
    assert viewed.resource == "graduate:G01" and '"via": "api"' in viewed.detail
    web.sign_in("school")
    assert web.client.get("/programs/P1").status_code == 200
    [listed] = _audit(web, "list_graduates")
    assert listed.resource == "program:P1" and '"via": "web"' in listed.detail and '"G01"' in listed.detail


@pytest.fixture
def web(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Web]:
    yield from _make_web(sqlite_engine, tmp_path / "web", None)


def test_pages_answer_a_malformed_or_foreign_id_like_a_missing_one(web: Web) -> None:
    web.sign_in("school")
    for path in ("/graduates/G%01", "/graduates/G%E2%80%AE1", "/graduates/G09", "/graduates/G404"):
        assert web.client.get(path).status_code == 404, path
    for path in ("/programs/P%01", "/programs/P3/placement", "/programs/P3/skill-gaps"):
        assert web.client.get(path).status_code == 404, path
