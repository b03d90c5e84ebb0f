"""The algorithm notice and model card pages: public, linked from every page's footer, in both languages."""

from __future__ import annotations

from pathlib import Path

from tests.service.api.test_notice import FAIRNESS, write_version
from tests.web.conftest import Web


def test_the_pages_are_public_linked_from_every_footer_and_bilingual(web: Web, tmp_path: Path) -> None:
    signed_out = web.client.get("/")
    assert 'href="/algorithm"' in signed_out.text and "算法公示" in signed_out.text
    page = web.client.get("/algorithm")
    assert page.status_code == 200
    assert "基本原理" in page.text and "如何提出异议" in page.text and "personalised=false" in page.text
    version = write_version(tmp_path / "artifacts", fairness=FAIRNESS)
    page = web.client.get("/algorithm")
    assert f'href="/algorithm/models/{version}"' in page.text
    card = web.client.get(f"/algorithm/models/{version}")
    assert card.status_code == 200
    assert f"模型卡：{version}" in card.text and "0.7200" in card.text and "训练数据快照" in card.text
    web.client.get("/lang/en")
    english = web.client.get(f"/algorithm/models/{version}")
    assert "Training data snapshot" in english.text and "Lowest impact ratio" in english.text
    assert web.client.get("/algorithm/models/20990101T000000Z-deadbeef").status_code == 404
    web.sign_in("hr")
    assert 'href="/algorithm"' in web.client.get("/vacancies").text
