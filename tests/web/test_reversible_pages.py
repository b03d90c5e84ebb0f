"""The pages of issue 15 in-process (tiny_market): a close or a hire asks first and changes nothing until
confirmed, in both languages; an undo from the page; a closed vacancy keeps its outcomes; a programme's placed
graduates; the admin audit by key name, filtered and paged."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from service.store.session import make_sessionmaker, transaction
from service.store.tables import Graduate, Interaction, Vacancy
from tests.web.conftest import Web

FLASH = re.compile(r'class="flash flash-(\w+)"[^>]*>([^<]+)<')


def _status(web: Web, vacancy_id: str) -> str:
    with make_sessionmaker(web.engine)() as session:
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None
        return vacancy.status


def test_close_asks_first_in_either_language_and_changes_nothing_until_confirmed(web: Web) -> None:
    web.sign_in("hr")
    token = web.csrf("/vacancies/V2")
    asked = web.client.post("/vacancies/V2/close", data={"csrf_token": token})
    assert (
        asked.status_code == 200
        and "确认关闭岗位" in asked.text
        and 'name="confirmed" value="yes"' in asked.text
    )
    assert _status(web, "V2") == "open"
    web.client.get("/lang/en")
    english = web.client.post("/vacancies/V2/close", data={"csrf_token": token})
    assert "Close the vacancy" in english.text and "Cancel" in english.text
    done = web.client.post("/vacancies/V2/close", data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 200 and _status(web, "V2") == "closed"


def test_a_hire_is_confirmed_then_undone_from_the_page_and_the_closed_page_keeps_it(web: Web) -> None:
    with transaction(web.engine) as session:  # the tiny market's closing dates are in the past
        session.execute(update(Vacancy).where(Vacancy.vacancy_id == "V2").values(closes_at=None))
    web.sign_in("hr")
    token = web.csrf("/vacancies/V2")
    hire = {"csrf_token": token, "graduate_id": "G10", "event": "hired"}
    asked = web.client.post("/vacancies/V2/feedback", data=hire)
    assert "确认录用毕业生 G10" in asked.text
    with make_sessionmaker(web.engine)() as session:
        graduate = session.get(Graduate, "G10")
        assert graduate is not None and graduate.status == "seeking"
    web.client.post("/vacancies/V2/feedback", data={**hire, "confirmed": "yes"})
    web.client.post("/vacancies/V2/close", data={"csrf_token": token, "confirmed": "yes"})
    closed = web.client.get("/vacancies/V2").text
    assert re.search(r'<tr data-graduate="G10">.*?已录用', closed, re.S)  # kept when closed
    assert "撤销 G10 的“已录用”" in closed
    undone = web.client.post("/vacancies/V2/feedback/undo", data=hire)
    assert ("info", "已撤销：G10 已录用。") in FLASH.findall(undone.text)
    with make_sessionmaker(web.engine)() as session:
        graduate = session.get(Graduate, "G10")
        assert graduate is not None and graduate.status == "seeking"
        assert not session.scalars(
            select(Interaction).where(Interaction.graduate_id == "G10", Interaction.event == "hired")
        ).all()
    again = web.client.post("/vacancies/V2/feedback/undo", data=hire)
    assert ("error", "没有可撤销的记录：G10 已录用。") in FLASH.findall(again.text)


def test_a_filled_vacancy_reopens_with_a_larger_headcount_from_the_page(web: Web) -> None:
    with transaction(web.engine) as session:
        session.execute(update(Vacancy).where(Vacancy.vacancy_id == "V6").values(closes_at=None))
    web.sign_in("hr")
    page = web.client.get("/vacancies/V6").text
    assert 'id="reopen-headcount"' in page
    token = web.csrf("/vacancies/V6")
    bad = web.client.post("/vacancies/V6/reopen", data={"csrf_token": token, "headcount": "x"})
    assert FLASH.findall(bad.text)[0][0] == "error" and _status(web, "V6") == "filled"
    web.client.post("/vacancies/V6/reopen", data={"csrf_token": token, "headcount": "5"})
    assert _status(web, "V6") == "open"


def test_a_programme_lists_its_placed_graduates_and_where(web: Web) -> None:
    web.sign_in("school")
    page = web.client.get("/programs/P1/placed")
    assert page.status_code == 200
    assert '<tr data-graduate="G04">' in page.text  # hired on V6 in the tiny market
    row = re.search(r'<tr data-graduate="G04">(.*?)</tr>', page.text, re.S)
    assert row and "2026-02-10" in row[1]
    assert web.client.get("/programs/P3/placed").status_code == 404  # another school's


def test_the_admin_audit_names_keys_and_filters_by_who_what_and_when(web: Web) -> None:
    web.sign_in("hr")
    token = web.csrf("/vacancies")
    web.client.post("/vacancies/V2/close", data={"csrf_token": token, "confirmed": "yes"})
    web.sign_in("admin")
    page = web.client.get("/admin").text
    assert "<td>HR E1</td><td>关闭岗位</td>" in page  # the key's name and the action's, not ids
    key_id = re.search(r'<option value="([^"]+)">HR E1</option>', page)
    assert key_id
    mine = web.client.get("/admin", params={"who": key_id[1]}).text
    rows = re.findall(r"<tr><td class=\"nowrap\">[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>", mine)
    assert rows and {who for who, _ in rows} == {"HR E1"}
    closed = web.client.get("/admin", params={"what": "close_vacancy"}).text
    assert set(re.findall(r"<td>([^<]+)</td><td>关闭岗位</td>", closed)) == {"HR E1"}
    none = web.client.get("/admin", params={"since": "2000-01-01", "until": "2000-01-02"}).text
    assert "没有符合条件的记录。" in none


def test_the_admin_audit_is_paged(web: Web) -> None:
    from service.store import audit

    with transaction(web.engine) as session:
        for i in range(30):
            audit.record(session=session, key_id=None, action="reload_model", resource=f"models/{i}")
    web.sign_in("admin")
    first = web.client.get("/admin", params={"what": "reload_model"}).text
    assert "第 1–25 条，共 30 条" in first and 'rel="next"' in first
    second = web.client.get("/admin", params={"what": "reload_model", "page": "2"}).text
    assert "第 26–30 条，共 30 条" in second and "models/0<" in second
