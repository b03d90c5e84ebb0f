"""Hostile input: every one gets a clear 4xx (API) or exit 2 (CLI), quickly, and changes nothing.

CSV uploads and bundles: wrong encodings (UTF-16, Latin-1; GBK is read as GB18030), zip bombs as .xlsx, a
50 MB field, 10^6 columns of noise, NUL bytes, files linked from outside the bundle folder (symlinks,
``../``). Formula-looking cells are stored as given and neutralised on export for spreadsheet users. JSON:
deep nesting, huge numbers, NaN, control characters, lone surrogates. Chinese and emoji text is accepted in
every text field and round-trips.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from models.bundle import BUNDLE_FILES
from service.cli import main
from service.settings import get_settings
from tests.bundles import write_tiny_bundle
from tests.service.api.conftest import Api
from tests.service.store.test_market import row_counts

HEADER = "graduate_id,program_id,education,major,skills,preferred_districts,available_from,status\n"
ROW = "GX1,P1,associate,微电子技术😀,lithography;spc,越城区;柯桥区,2026-06-30,seeking\n"
FORMULA = "=cmd|' /C calc'!A0"
# Every refusal must come quickly: a slow one is a resource-consumption hole (OWASP API4).
QUICK_SECONDS = 10.0


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


UPLOADS: dict[str, tuple[bytes, int]] = {
    "utf-16 with BOM": ((HEADER + ROW).encode("utf-16"), 422),
    "utf-16-le without BOM": ((HEADER + ROW).encode("utf-16-le"), 422),
    "latin-1": (
        (HEADER + ROW.replace("微电子技术😀", "Électronique").replace("越城区;柯桥区", "")).encode("latin-1"),
        422,
    ),
    "10^6 header columns": (("," * 999_000 + "\n").encode(), 422),
    "10^6 cells in a row": ((HEADER + "," * 999_000 + "\n").encode(), 422),
    "900 kB field": ((HEADER + ROW.replace("微电子技术😀", "x" * 900_000)).encode(), 422),
    "50 MB field": ((HEADER + ROW.replace("微电子技术😀", "x" * 50_000_000)).encode(), 413),
    "NUL byte": ((HEADER + ROW.replace("😀", "\x00")).encode(), 422),
    "binary": (bytes(range(256)) * 100, 422),
    "empty": (b"", 422),
    "header only": (HEADER.encode(), 422),
    "another programme's graduate": ((HEADER + ROW.replace(",P1,", ",P3,")).encode(), 422),
    "unknown skill": ((HEADER + ROW.replace("lithography", "telepathy")).encode(), 422),
    "bad date": ((HEADER + ROW.replace("2026-06-30", "2026-02-30")).encode(), 422),
    "quote never closed": ((HEADER + ROW.replace("GX1", '"GX1')).encode(), 422),
    "lone carriage return in the header": ("Å!æ\t\rÒ¹\x93\r\n".encode(), 422),  # found by schemathesis
    "zip bomb as .xlsx": (_zip({"xl/worksheets/sheet1.xml": b"\0" * 60_000_000}), 422),
    "a zip that is no workbook": (_zip({"hello.txt": b"hello"}), 422),
    "old binary .xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096, 422),
}


def _upload(api: Api, content: bytes, filename: str = "graduates.csv") -> Any:
    return api.client.post(
        "/api/v1/programs/P1/graduates/import",
        files={"file": (filename, content, "text/csv")},
        headers=api.headers["school_s1"],
    )


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_hostile_uploads_are_refused_quickly_and_change_nothing(api: Api, name: str) -> None:
    content, status = UPLOADS[name]
    before = row_counts(api.engine)
    started = time.monotonic()
    response = _upload(api, content)
    elapsed = time.monotonic() - started
    assert response.status_code == status, response.text[:500]
    error = response.json()["error"]
    assert error["message"] and set(error) == {"code", "message", "details"}
    if status == 422:
        assert error["code"] == "invalid_upload"
        assert all({"line", "column", "message"} <= set(d) for d in error["details"])
    assert elapsed < QUICK_SECONDS, f"{name}: {elapsed:.1f}s"
    assert row_counts(api.engine) == before


def test_upload_file_names_are_never_used_as_paths(api: Api, tmp_path: Path) -> None:
    cwd = Path.cwd()
    before = set(cwd.iterdir())
    for name in ("../../../../tmp/evil.csv", "/etc/passwd", "..\\..\\evil.csv", "graduates.csv\x00.exe"):
        response = _upload(api, (HEADER + ROW).encode(), filename=name)
        assert response.status_code in (200, 400, 422), response.text
    assert set(cwd.iterdir()) == before
    assert not Path("/tmp/evil.csv").exists()


def test_a_gbk_csv_is_read_as_gb18030(api: Api) -> None:
    # What Chinese Windows Excel saves as "CSV": read, not refused (GB18030 is a superset of GBK).
    assert _upload(api, (HEADER + ROW.replace("😀", "")).encode("gbk")).status_code == 200
    graduate = api.client.get("/api/v1/graduates/GX1", headers=api.headers["school_s1"]).json()
    assert graduate["major"] == "微电子技术" and graduate["preferred_districts"] == ["越城区", "柯桥区"]


def test_chinese_and_emoji_round_trip_through_an_upload(api: Api) -> None:
    assert _upload(api, (HEADER + ROW).encode()).status_code == 200
    graduate = api.client.get("/api/v1/graduates/GX1", headers=api.headers["school_s1"]).json()
    assert graduate["major"] == "微电子技术😀"
    assert graduate["preferred_districts"] == ["越城区", "柯桥区"]


# ---------------------------------------------------------------------- JSON bodies
NEW = {"title": "封装工艺技术员", "district": "越城区"}
JSON_BODIES: dict[str, tuple[str, int]] = {
    "nested lists 10^5 deep": ("[" * 100_000 + "]" * 100_000, 400),
    "nested objects 5*10^4 deep": ('{"title":' * 50_000 + "1" + "}" * 50_000, 400),
    "deep nesting inside a field": (
        json.dumps(NEW)[:-1] + ', "description": ' + "[" * 20_000 + "]" * 20_000 + "}",
        400,
    ),
    "5000-digit integer": (json.dumps(NEW)[:-1] + ', "headcount": ' + "9" * 5000 + "}", 400),
    "1e400": (json.dumps(NEW)[:-1] + ', "headcount": 1e400}', 422),
    "salary 1e308": (json.dumps(NEW)[:-1] + ', "salary_min": 1e308}', 422),
    "NaN": (json.dumps(NEW)[:-1] + ', "salary_min": NaN}', 422),
    "-Infinity": (json.dumps(NEW)[:-1] + ', "salary_max": -Infinity}', 422),
    "negative headcount": (json.dumps({**NEW, "headcount": -1}), 422),
    "headcount as an object": (json.dumps({**NEW, "headcount": {"$gt": 0}}), 422),
    "lone surrogate": ('{"title": "x\\ud800", "district": "y"}', 422),
    "BEL in title": (json.dumps({**NEW, "title": "x\u0007"}), 422),
    "NUL in title": (json.dumps({**NEW, "title": "x\u0000y"}), 422),
    "newline in district": (json.dumps({**NEW, "district": "越城区\n滨海"}), 422),
    "NUL in description": (json.dumps({**NEW, "description": "a\u0000b"}), 422),
    "escape sequence in role": (json.dumps({**NEW, "role": "\u001b[31mred"}), 422),
    "control char in skill id": (json.dumps({**NEW, "required_skills": ["spc\u0001"]}), 422),
    "10^4 skill ids": (json.dumps({**NEW, "required_skills": ["spc"] * 10_000}), 422),
    "unknown field": (json.dumps({**NEW, "is_admin": True}), 422),
    "array instead of object": (json.dumps([NEW]), 422),
    "truncated JSON": (json.dumps(NEW)[:-3], 400),
    "not UTF-8": (b'{"title": "' + "岗位".encode("gbk") + b'", "district": "y"}', 400),  # type: ignore[dict-item]
    "title 10^5 characters": (json.dumps({**NEW, "title": "岗" * 100_000}), 422),
    "closes_at year 0001 with offset": (json.dumps({**NEW, "closes_at": "0001-01-01T00:00:00+05:00"}), 422),
    "closes_at year 99999": (json.dumps({**NEW, "closes_at": "99999-01-01T00:00:00"}), 422),
}


@pytest.mark.parametrize("name", sorted(JSON_BODIES))
def test_hostile_json_is_refused_quickly_and_changes_nothing(api: Api, name: str) -> None:
    body, status = JSON_BODIES[name]
    content = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    before = row_counts(api.engine)
    started = time.monotonic()
    response = api.client.post(
        "/api/v1/vacancies",
        content=content,
        headers={**api.headers["hr_e1"], "Content-Type": "application/json"},
    )
    assert time.monotonic() - started < QUICK_SECONDS
    assert response.status_code == status, response.text[:500]
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert "Traceback" not in response.text
    assert row_counts(api.engine) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/vacancies/V1%00/candidates",
        "/api/v1/vacancies/%F0%9F%98%80",
        "/api/v1/vacancies/" + "V" * 5000,
        "/api/v1/skills?q=%00",
        "/api/v1/skills?q=" + "😀" * 101,
        "/api/v1/vacancies?status=open%00",
        "/api/v1/vacancies/V1/candidates?district=%E8%B6%8A%00&limit=1",
        "/api/v1/vacancies/V1/candidates?limit=99999999999999999999999",
        "/api/v1/vacancies?offset=-1",
        "/api/v1/programs/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/graduates/../../admin/audit",
    ],
)
def test_hostile_paths_and_queries_never_5xx(api_with_model: Api, path: str) -> None:
    api = api_with_model
    headers = api.headers["admin"]
    response = api.client.get(path, headers=headers)
    assert 400 <= response.status_code < 500 or response.status_code == 200, (path, response.text[:300])
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


TEXTS = {
    "title": "封装工艺工程师🔧（倒装焊）",
    "role": "工艺工程师👩‍🔬",
    "district": "越城区🏭",
    "description": "熟悉引线键合😀和倒装焊工艺，有SPC经验；emoji 🇨🇳 ZWJ 👨‍👩‍👧 and 𠀀 (CJK ext. B)",
}


@pytest.fixture
def any_db_api(api_any_db: Api) -> Api:
    return api_any_db


def test_chinese_and_emoji_in_every_text_field_round_trip(any_db_api: Api) -> None:
    api = any_db_api
    headers = api.headers["hr_e1"]
    created = api.client.post(
        "/api/v1/vacancies", json={**TEXTS, "required_skills": ["spc"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    vacancy_id = created.json()["vacancy_id"]
    stored = api.client.get(f"/api/v1/vacancies/{vacancy_id}", headers=headers).json()
    assert {k: stored[k] for k in TEXTS} == TEXTS
    patched = api.client.patch(
        f"/api/v1/vacancies/{vacancy_id}", json={"title": "测试😀" * 50}, headers=headers
    ).json()
    assert patched["title"] == "测试😀" * 50
    listed = api.client.get("/api/v1/vacancies?limit=100", headers=headers).json()["items"]
    assert any(v["description"] == TEXTS["description"] for v in listed)
    found = api.client.get("/api/v1/skills", params={"q": "统计😀"}, headers=headers)
    assert found.status_code == 200
    assert api.client.get("/api/v1/skills", params={"q": "统计"}, headers=headers).json()["total"] >= 1
    feedback = api.client.post(
        f"/api/v1/vacancies/{vacancy_id}/feedback",
        json={"graduate_id": "毕业生😀", "event": "hired"},
        headers=headers,
    )
    assert feedback.status_code == 422  # not an id by the one documented pattern (models.ids.ID_PATTERN)
    assert feedback.json()["error"]["details"][0]["field"] == "body.graduate_id"


# ---------------------------------------------------------------------- bundles (CLI)
@pytest.fixture
def store(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield sqlite_engine
    get_settings.cache_clear()


def _rewrite(path: Path, transform: Any) -> None:
    path.write_bytes(transform(path.read_text(encoding="utf-8")))


def _gbk(bundle: Path) -> None:
    _rewrite(bundle / "schools.csv", lambda t: t.encode("gbk"))


def _utf16(bundle: Path) -> None:
    _rewrite(bundle / "graduates.csv", lambda t: t.encode("utf-16"))


def _field_50mb(bundle: Path) -> None:
    def grow(text: str) -> bytes:
        lines = text.splitlines()
        cells = next(csv.reader([lines[1]]))
        cells[-1] = "工艺" * 25_000_000  # 50 MB of UTF-8 text in one description
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(cells)
        return ("\n".join([lines[0], out.getvalue().rstrip("\n"), *lines[2:]]) + "\n").encode()

    _rewrite(bundle / "vacancies.csv", grow)


def _million_columns(bundle: Path) -> None:
    _rewrite(
        bundle / "interactions.csv",
        lambda t: (t.rstrip("\n").split("\n")[0] + ",x" * 1_000_000 + "\n").encode(),
    )


def _million_cells(bundle: Path) -> None:
    _rewrite(bundle / "skills.csv", lambda t: (t + "a" + ",b" * 1_000_000 + "\n").encode())


def _symlink_out(bundle: Path) -> None:
    outside = bundle.parent / "outside"
    outside.mkdir()
    (bundle / "graduates.csv").rename(outside / "graduates.csv")
    (bundle / "graduates.csv").symlink_to(outside / "graduates.csv")


def _symlink_dotdot(bundle: Path) -> None:
    outside = bundle.parent / "elsewhere"
    outside.mkdir()
    (bundle / "programs.csv").rename(outside / "programs.csv")
    (bundle / "programs.csv").symlink_to(Path("..") / "elsewhere" / "programs.csv")


def _symlink_to_system(bundle: Path) -> None:
    (bundle / "skills.csv").unlink()
    (bundle / "skills.csv").symlink_to("/etc/passwd")


def _formula_in_id(bundle: Path) -> None:
    _rewrite(bundle / "skills.csv", lambda t: t.replace("spc,", "=cmd|' /C calc'!A0,", 1).encode())


BUNDLES = {
    "GBK schools.csv": (_gbk, "schools.csv:2: -: not UTF-8"),
    "UTF-16 graduates.csv": (_utf16, "graduates.csv:1: -: not UTF-8"),
    "50 MB description": (_field_50mb, "vacancies.csv:2: description: too long"),
    "10^6 header columns": (_million_columns, "interactions.csv:1: -: the header has 1000004 columns"),
    "10^6 cells in a row": (_million_cells, "skills.csv"),
    "symlink out of the folder": (_symlink_out, "graduates.csv:0: -: is a link to a file outside"),
    "relative ../ symlink": (_symlink_dotdot, "programs.csv:0: -: is a link to a file outside"),
    "symlink to /etc/passwd": (_symlink_to_system, "skills.csv:0: -: is a link to a file outside"),
    "formula as an id": (_formula_in_id, "skills.csv"),
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if "50 MB" in n else n for n in sorted(BUNDLES)]
)
def test_hostile_bundles_exit_2_and_change_nothing(
    store: Engine, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_tiny_bundle(tmp_path / "base")
    assert main(["import", str(base)]) == 0
    before = row_counts(store)
    bundle = write_tiny_bundle(tmp_path / "bundle")
    spoil, expected = BUNDLES[name]
    spoil(bundle)
    capsys.readouterr()
    started = time.monotonic()
    assert main(["import", str(bundle)]) == 2
    assert time.monotonic() - started < 60  # the 50 MB file is read once; nothing is slow per cell
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert expected in err, err[:2000]
    assert len(err) < 20_000  # problems are capped: a 50 MB cell is not echoed back
    assert row_counts(store) == before


def test_a_bundle_reached_through_dotdot_is_fine(store: Engine, tmp_path: Path) -> None:
    """``..`` in the folder an operator names is theirs to use; only files leaving the folder are refused."""
    write_tiny_bundle(tmp_path / "a" / "bundle")
    (tmp_path / "b").mkdir()
    assert main(["import", str(tmp_path / "b" / ".." / "a" / "bundle")]) == 0


def test_formula_cells_are_neutralised_on_export(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vacancy = {
        "title": FORMULA,
        "role": "+cmd",
        "district": "@SUM(1+1)",
        "description": '-2+3;=HYPERLINK("http://x")',
        "required_skills": ["spc"],
    }
    created = api.client.post("/api/v1/vacancies", json=vacancy, headers=api.headers["hr_e1"])
    assert created.status_code == 201, created.text
    vacancy_id = created.json()["vacancy_id"]
    assert created.json()["title"] == FORMULA  # stored and answered as given: JSON is not a spreadsheet
    assert _upload(api, (HEADER + ROW.replace("微电子技术😀", FORMULA)).encode()).status_code == 200

    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", api.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert main(["export", str(tmp_path / "export")]) == 0
    finally:
        get_settings.cache_clear()
    with (tmp_path / "export" / BUNDLE_FILES["vacancies"]).open(encoding="utf-8", newline="") as handle:
        rows = {row["vacancy_id"]: row for row in csv.DictReader(handle)}
    exported = rows[vacancy_id]
    for column in ("title", "role", "district", "description"):
        assert exported[column].startswith("'"), (column, exported[column])
        assert exported[column][1:] == vacancy[column]
    with (tmp_path / "export" / BUNDLE_FILES["graduates"]).open(encoding="utf-8", newline="") as handle:
        graduates = {row["graduate_id"]: row for row in csv.DictReader(handle)}
    assert graduates["GX1"]["major"] == "'" + FORMULA
    # No cell of any exported file starts with a formula character.
    for file in BUNDLE_FILES.values():
        with (tmp_path / "export" / file).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                assert not any(cell[:1] in ("=", "+", "@", "\t", "\r") for cell in row), (file, row)
