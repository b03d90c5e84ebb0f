"""An outcome recorded on the candidates page keeps its recorder, the page as its surface, and the model
version and score the page showed (issue 16, part 6)."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.store.session import make_sessionmaker
from service.store.tables import ApiKey, Interaction
from tests.web.conftest import Web


def test_a_page_recorded_outcome_keeps_who_and_what_was_shown(web_with_model: Web) -> None:
    web = web_with_model
    web.sign_in("hr")
    page = web.client.get("/vacancies/V1").text
    assert 'data-graduate="G10"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = web.client.post(
        "/vacancies/V1/feedback",
        data={"csrf_token": token[1], "graduate_id": "G10", "event": "shortlisted", "back": "/vacancies/V1"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    with make_sessionmaker(web.engine)() as session:
        row = session.scalars(select(Interaction).where(Interaction.recorded_by.is_not(None))).one()
        key = session.get(ApiKey, row.recorded_by)
        assert key is not None and key.name == "HR E1"
        assert (row.graduate_id, row.event, row.recorded_via) == ("G10", "shortlisted", "web")
        assert row.model_version and row.shown_score is not None and 0.0 <= row.shown_score <= 1.0
