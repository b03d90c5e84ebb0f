"""The algorithm notice (算法公示) and the model cards as pages, public: linked from every page's footer and
readable without signing in (:mod:`service.usecases.notice`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.usecases import notice
from service.usecases.admin import UnknownModelVersion
from service.web.deps import OptionalUserDep, PageError
from service.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/algorithm")
def algorithm(request: Request, user: OptionalUserDep) -> Response:
    """The algorithm notice: principle, purpose, mechanism, data, opting out, contesting; the models."""
    result = notice.algorithm_notice(request.app.state.services)
    return render(request, "notice/algorithm.html", {"notice": result}, user=user)


@router.get("/algorithm/models/{version}")
def model_card(request: Request, user: OptionalUserDep, version: str) -> Response:
    """One model version's card: training data, metrics, calibration, gate, fairness."""
    try:
        card = notice.model_card(request.app.state.services, version)
    except UnknownModelVersion as error:
        raise PageError(404) from error
    return render(request, "notice/model_card.html", {"card": card}, user=user)
